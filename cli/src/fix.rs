//! `--fix`: the documents of one file with each document's patch applied.

use policy_core::input::{is_blank, split_documents};
use policy_core::{patch, Report};
use serde_json::Value;

/// The fixed text of one file.
pub struct Fixed {
    /// The whole file with patched documents rewritten and the others kept byte for byte.
    pub text: String,
    /// Whether any document changed.
    pub changed: bool,
}

/// Applies each document's patch to that document. Unpatched documents keep their exact text
/// (comments included); a patched YAML document is re-serialized, so its comments are lost.
pub fn apply(bytes: &[u8], report: &Report) -> Result<Fixed, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let patches = |doc: usize| {
        report
            .results
            .iter()
            .filter(move |r| r.document == doc)
            .flat_map(|r| r.patch.iter().cloned())
            .collect::<Vec<_>>()
    };
    if text.trim_start().starts_with('{') {
        let ops = patches(0);
        if ops.is_empty() {
            return Ok(Fixed {
                text: text.to_owned(),
                changed: false,
            });
        }
        let mut v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        patch::apply(&mut v, &ops).map_err(|e| e.to_string())?;
        let mut out = serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?;
        out.push('\n');
        return Ok(Fixed {
            text: out,
            changed: true,
        });
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut changed = false;
    let mut doc = 0usize;
    for (i, chunk) in split_documents(text).iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        if is_blank(chunk.text) {
            out.push_str(chunk.text);
            continue;
        }
        let ops = patches(doc);
        doc += 1;
        if ops.is_empty() {
            out.push_str(chunk.text);
            continue;
        }
        let mut values = policy_core::yaml::parse_documents(chunk.text, chunk.line_offset);
        let mut v = match (values.len(), values.pop()) {
            (1, Some(Ok(v))) => v,
            _ => return Err(format!("document {} cannot be rewritten", doc - 1)),
        };
        patch::apply(&mut v, &ops).map_err(|e| e.to_string())?;
        out.push_str(&policy_core::yaml::to_string(&v)?);
        changed = true;
    }
    Ok(Fixed { text: out, changed })
}
