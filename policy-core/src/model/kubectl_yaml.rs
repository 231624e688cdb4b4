//! YAML as kubectl reads it, as plain values: for callers that want documents rather than
//! verdicts (settings, `fits`, tests). The reader itself is `read::yaml`.

use serde_json::Value;

use crate::model::input::{is_blank, split_documents, Problem};
use crate::read::tree::Lines;
use crate::read::yaml::{read, Budget};

/// Parses every YAML document in `text` into JSON values, as kubectl would send them (YAML 1.1
/// scalars, merge keys applied, the last of duplicate keys kept). `line_offset` is added to
/// reported lines. Empty documents are returned as `Value::Null`.
pub fn parse_documents(text: &str, line_offset: u32) -> Vec<Result<Value, Problem>> {
    parse_documents_within(text, line_offset, &crate::read::limits::Limits::default())
}

/// [`parse_documents`] within the given input limits (depth, aliases).
pub fn parse_documents_within(
    text: &str,
    line_offset: u32,
    limits: &crate::read::limits::Limits,
) -> Vec<Result<Value, Problem>> {
    let lines = Lines::new(text.as_bytes());
    let mut out = Vec::new();
    let mut budget = Budget::for_input(limits, text.len());
    for chunk in split_documents(text) {
        if is_blank(chunk.text) {
            continue;
        }
        for doc in read(chunk.text, chunk.start as u32, &mut budget) {
            out.push(match doc {
                Ok(d) => Ok(d.root.to_value()),
                Err(e) => {
                    let (line, column) = lines.line_col(text, e.offset);
                    Err(Problem {
                        message: e.message,
                        path: String::new(),
                        line: Some(line + line_offset),
                        column: Some(column),
                    })
                }
            });
        }
    }
    out
}

/// Returns the 1-based line in `text` of the node at `tokens` (its key, for map members), or of
/// the deepest existing ancestor when the node does not exist (e.g. a path a patch will add).
/// Reads only the first document.
pub fn locate(text: &str, tokens: &[String]) -> Option<u32> {
    locate_all(text, std::slice::from_ref(&tokens.to_vec()))
        .pop()
        .flatten()
}

/// [`locate`] for many pointers, reading the text once.
pub fn locate_all(text: &str, pointers: &[Vec<String>]) -> Vec<Option<u32>> {
    let lines = Lines::new(text.as_bytes());
    let doc = split_documents(text)
        .into_iter()
        .find(|c| !is_blank(c.text))
        .and_then(|chunk| {
            read(
                chunk.text,
                chunk.start as u32,
                &mut Budget::default_for(chunk.text.len()),
            )
            .into_iter()
            .next()?
            .ok()
        });
    match doc {
        Some(d) => crate::read::locate::locate_all(&d.root, pointers)
            .0
            .into_iter()
            .map(|offset| Some(lines.line(offset)))
            .collect(),
        None => vec![None; pointers.len()],
    }
}

/// For the `block` fuzz target (built with `--cfg fuzzing` only): `text` read by the block
/// reader (`None` where it leaves the text to yaml-rust2) and by yaml-rust2, each as debug text,
/// which must be equal whenever the block reader reads the text.
#[cfg(all(fuzzing, feature = "fast-yaml"))]
#[doc(hidden)]
pub fn read_both(text: &str) -> (Option<String>, String) {
    crate::read::yaml::read_both(text, 0, Budget::default_for(text.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: &str) -> Vec<String> {
        crate::read::pointer::tokens(p).unwrap()
    }

    #[test]
    fn locates_keys_items_and_ancestors() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    a.coreweave.cloud/x: \"1\"\nspec:\n  containers:\n  - name: web\n    image: nginx\n  - name: side\n    image: busybox\n";
        assert_eq!(locate(text, &t("/kind")), Some(2));
        assert_eq!(
            locate(text, &t("/metadata/labels/a.coreweave.cloud~1x")),
            Some(6)
        );
        assert_eq!(locate(text, &t("/spec/containers/1/image")), Some(12));
        assert_eq!(locate(text, &t("/spec/containers/1")), Some(11));
        assert_eq!(locate(text, &t("/spec/tolerations")), Some(7));
        assert_eq!(locate(text, &t("")), Some(1));
    }

    #[test]
    fn locates_in_json() {
        let text = "{\n  \"kind\": \"Pod\",\n  \"spec\": {\n    \"containers\": [\n      {\"image\": \"x\"}\n    ]\n  }\n}\n";
        assert_eq!(locate(text, &t("/spec/containers/0/image")), Some(5));
    }

    #[test]
    fn parses_multiple_and_reports_lines() {
        let docs = parse_documents("a: 1\n---\nb: [\n", 10);
        assert_eq!(docs.len(), 2);
        let err = docs[1].as_ref().unwrap_err();
        assert!(err.line.unwrap() >= 12, "{err:?}");
    }

    #[test]
    fn merge_keys_apply() {
        let docs = parse_documents("base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n", 0);
        let v = docs[0].as_ref().unwrap();
        assert_eq!(v["m"]["x"], 1);
    }
}
