//! Finding the manifest files named on the command line.

use std::io::Read;
use std::path::Path;

/// Reads every input: files as named, directories recursively (`*.yaml`, `*.yml`, `*.json`,
/// sorted), `-` as stdin. Returns (source name, bytes) pairs in order.
pub fn collect(paths: &[String]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            out.push(("-".to_owned(), buf));
            continue;
        }
        let path = Path::new(p);
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read `{p}`: {e}"))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            for f in found {
                let bytes = std::fs::read(&f).map_err(|e| format!("cannot read `{f}`: {e}"))?;
                out.push((f, bytes));
            }
        } else {
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{p}`: {e}"))?;
            out.push((p.clone(), bytes));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<String>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
    for e in entries {
        let e = e.map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
        let path = e.path();
        let ft = e
            .file_type()
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        if ft.is_dir() {
            walk(&path, out)?;
        } else if matches!(
            path.extension().and_then(|x| x.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(path.to_string_lossy().into_owned());
        }
    }
    Ok(())
}
