//! The shared golden vectors: `fixtures/cases/<name>/` holds `input.yaml` or `input.json`,
//! optional `settings.json` and `context.json`, and `expected.json` (the pretty-printed report).
//! Every surface runs these cases and compares its compact JSON, byte for byte, with the
//! minified `expected.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use policy_core::{check, Context, Policy};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Where the shared corpus of real public manifests is, if it is there to be read.
///
/// The location is `CKS_CORPUS` when set, else `../shared/corpus` beside the checkout (where CI
/// and the development machines have it). A user's clone has no such folder: then the caller's
/// tests are not run, and one line on stderr says which and how to run them. Under `CI=true` an
/// absent corpus panics instead, so CI can never silently stop judging it.
pub fn shared_corpus(what: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("CKS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/corpus"));
    if dir.is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    assert!(
        !ci,
        "CI=true but the shared corpus is missing at {}: {what} cannot run (set CKS_CORPUS to its folder)",
        dir.display()
    );
    // Written to the stream itself, not through `eprintln!`, so the test harness's output
    // capture does not hide it from someone running `cargo test` or `./test.sh`.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "note: {what} not run: no corpus at {} (set CKS_CORPUS=<dir> or put shared/corpus beside the checkout)",
        dir.display()
    );
    None
}

/// One golden case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Folder name.
    pub name: String,
    /// Folder path.
    pub dir: PathBuf,
    /// `input.yaml` or `input.json`.
    pub input_name: String,
    /// Input bytes.
    pub input: Vec<u8>,
    /// Settings bytes (`{}` when absent).
    pub settings: Vec<u8>,
    /// Context bytes (`{}` when absent).
    pub context: Vec<u8>,
}

/// Every case, sorted by name.
pub fn cases() -> Vec<Case> {
    let dir = root().join("fixtures/cases");
    let mut out = Vec::new();
    for e in fs::read_dir(&dir).expect("fixtures/cases") {
        let e = e.expect("entry");
        if !e.file_type().expect("type").is_dir() {
            continue;
        }
        let d = e.path();
        let input_name = ["input.yaml", "input.json"]
            .into_iter()
            .find(|n| d.join(n).exists())
            .unwrap_or_else(|| panic!("{} has no input.yaml or input.json", d.display()));
        let read_or = |n: &str| fs::read(d.join(n)).unwrap_or_else(|_| b"{}".to_vec());
        out.push(Case {
            name: e.file_name().to_string_lossy().into_owned(),
            input: fs::read(d.join(input_name)).expect("input"),
            input_name: input_name.to_owned(),
            settings: read_or("settings.json"),
            context: read_or("context.json"),
            dir: d,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

impl Case {
    /// The report for this case as the core produces it (compact JSON).
    pub fn run(&self) -> String {
        let policy = Policy::from_slice(&self.settings)
            .unwrap_or_else(|e| panic!("{}: settings: {e}", self.name));
        let context: Context = serde_json::from_slice(&self.context)
            .unwrap_or_else(|e| panic!("{}: context: {e}", self.name));
        check(&policy, Some(&self.input_name), &self.input, &context).to_json()
    }

    /// `expected.json` as stored (pretty), if present.
    pub fn expected_pretty(&self) -> Option<String> {
        fs::read_to_string(self.dir.join("expected.json")).ok()
    }
}

/// The pretty form stored in `expected.json` (serde_json's two-space pretty printer).
pub fn pretty(compact: &str) -> String {
    let v: policy_core::Report = serde_json::from_str(compact).expect("report json");
    let mut s = serde_json::to_string_pretty(&v).expect("pretty");
    s.push('\n');
    s
}

/// Removes the whitespace outside strings that pretty printing added: the inverse of
/// [`pretty`], so every surface can compare compact bytes.
pub fn minify(pretty: &str) -> String {
    let mut out = String::with_capacity(pretty.len());
    let mut in_str = false;
    let mut esc = false;
    for c in pretty.chars() {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}
