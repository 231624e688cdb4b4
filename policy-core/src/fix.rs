//! The fixed manifest: each document's patch applied to that document, as `cks-policy check
//! --fix` prints it and the browser checker shows it. Unpatched documents keep their exact text
//! (comments included); a patched YAML document is re-serialized, so its comments are lost.

use serde_json::Value;

use crate::error::FixError;
use crate::input::{is_blank, split_documents};
use crate::{patch, Report};

/// The fixed text of one manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed {
    /// The whole text with patched documents rewritten and the others kept byte for byte.
    pub text: String,
    /// Whether any document changed.
    pub changed: bool,
}

/// Applies each document's patch (from `report`, judged from `text`) to that document.
pub fn apply(text: &str, report: &Report) -> Result<Fixed, FixError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let patches = |doc: usize| {
        report
            .results
            .iter()
            .filter(move |r| r.document == doc)
            .flat_map(|r| r.patch.iter().cloned())
            .collect::<Vec<_>>()
    };
    if !report.results.iter().any(|r| !r.patch.is_empty()) {
        return Ok(Fixed {
            text: text.to_owned(),
            changed: false,
        });
    }
    if text.trim_start().starts_with('{') {
        let mut v: Value = serde_json::from_str(text).map_err(|e| FixError(e.to_string()))?;
        patch::apply(&mut v, &patches(0)).map_err(|e| FixError(e.to_string()))?;
        let mut out = serde_json::to_string_pretty(&v).map_err(|e| FixError(e.to_string()))?;
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
        let mut values = crate::yaml::parse_documents(chunk.text, chunk.line_offset);
        let mut v = match (values.len(), values.pop()) {
            (1, Some(Ok(v))) => v,
            _ => {
                return Err(FixError(format!(
                    "document {} cannot be rewritten",
                    doc - 1
                )))
            }
        };
        patch::apply(&mut v, &ops).map_err(|e| FixError(e.to_string()))?;
        out.push_str(&crate::yaml::to_string(&v).map_err(FixError)?);
        changed = true;
    }
    Ok(Fixed { text: out, changed })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::{check, Context, Policy};

    #[test]
    fn unpatched_documents_stay_byte_for_byte() {
        let policy = Policy::from_slice(b"{}").unwrap();
        let text = "# keep me\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: nginx}\n";
        let report = check(&policy, None, text.as_bytes(), &Context::default());
        let fixed = apply(text, &report).unwrap();
        assert!(fixed.changed);
        assert!(fixed
            .text
            .starts_with("# keep me\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"));
        assert!(fixed.text.contains("is_cpu_compute"));
    }
}
