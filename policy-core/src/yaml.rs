//! The one place that reads YAML. serde_yaml (archived upstream) parses documents; yaml-rust2's
//! event parser maps JSON Pointers back to lines. Swapping serde_yaml for a maintained fork such
//! as serde_norway means changing this file only.

use serde_json::Value;
use yaml_rust2::parser::{Event, Parser};

use crate::input::Problem;

/// Parses every YAML document in `text` into JSON values (merge keys `<<` applied).
/// `line_offset` is added to reported lines. Empty documents are returned as `Value::Null`.
pub fn parse_documents(text: &str, line_offset: u32) -> Vec<Result<Value, Problem>> {
    let mut out = Vec::new();
    let merge = text.contains("<<");
    for de in serde_yaml::Deserializer::from_str(text) {
        let parsed: Result<Value, serde_yaml::Error> = if merge {
            serde::Deserialize::deserialize(de).and_then(|mut v: serde_yaml::Value| {
                v.apply_merge()?;
                serde_json::to_value(v).map_err(serde::de::Error::custom)
            })
        } else {
            serde::Deserialize::deserialize(de)
        };
        match parsed {
            Ok(v) => out.push(Ok(v)),
            Err(e) => {
                let (line, column) = match e.location() {
                    Some(l) => (Some(l.line() as u32 + line_offset), Some(l.column() as u32)),
                    None => (None, None),
                };
                let mut msg = e.to_string();
                // serde_yaml appends " at line X column Y"; we report the location ourselves.
                if let Some(i) = msg.find(" at line ") {
                    msg.truncate(i);
                }
                out.push(Err(Problem {
                    message: format!("not valid YAML: {msg}"),
                    path: String::new(),
                    line,
                    column,
                }));
                // The parser cannot resume after a syntax error inside this document.
                break;
            }
        }
    }
    out
}

/// Serializes a value as a YAML document (for printing patched manifests).
pub fn to_string(v: &Value) -> Result<String, String> {
    serde_yaml::to_string(v).map_err(|e| e.to_string())
}

/// Counts alias uses (`*name`) in the document; used for `limits.maxAliases`.
pub fn count_aliases(text: &str) -> usize {
    if !text.contains('*') {
        return 0;
    }
    let mut n = 0;
    let mut p = Parser::new_from_str(text);
    while let Ok((ev, _)) = p.next_token() {
        match ev {
            Event::Alias(_) => n += 1,
            Event::StreamEnd => break,
            _ => {}
        }
    }
    n
}

type Events<'a> = Parser<std::str::Chars<'a>>;

/// Returns the 1-based line in `text` of the node at `tokens` (its key, for map members), or of
/// the deepest existing ancestor when the node does not exist (e.g. a path a patch will add).
pub fn locate(text: &str, tokens: &[String]) -> Option<u32> {
    let mut p = Parser::new_from_str(text);
    let mut path = Vec::new();
    let mut best = None;
    loop {
        let (ev, mark) = p.next_token().ok()?;
        match ev {
            Event::StreamStart | Event::DocumentStart => continue,
            Event::StreamEnd | Event::DocumentEnd => return best.map(|(_, l)| l),
            ev => {
                if consider(&path, tokens, mark.line() as u32, &mut best) {
                    return Some(mark.line() as u32);
                }
                return node(&mut p, ev, mark.line() as u32, &mut path, tokens, &mut best)
                    .or(best.map(|(_, l)| l));
            }
        }
    }
}

/// Records `line` when `path` is a prefix of `tokens`; true when it is the whole of it.
fn consider(
    path: &[String],
    tokens: &[String],
    line: u32,
    best: &mut Option<(usize, u32)>,
) -> bool {
    let n = path.len();
    if n > tokens.len() || path != &tokens[..n] {
        return false;
    }
    if best.is_none_or(|(len, _)| n > len) {
        *best = Some((n, line));
    }
    n == tokens.len()
}

/// Consumes one node whose first event is `ev`; returns the line when the target is inside it.
fn node(
    p: &mut Events<'_>,
    ev: Event,
    line: u32,
    path: &mut Vec<String>,
    tokens: &[String],
    best: &mut Option<(usize, u32)>,
) -> Option<u32> {
    match ev {
        Event::MappingStart(..) => loop {
            let (k, kmark) = p.next_token().ok()?;
            let key = match k {
                Event::MappingEnd => return None,
                Event::Scalar(s, ..) => s,
                other => {
                    // A complex key: never in Kubernetes objects; consume it opaquely.
                    let mut scratch = vec![String::from("\u{0}")];
                    node(p, other, 0, &mut scratch, &[], &mut None);
                    String::from("\u{0}")
                }
            };
            path.push(key);
            if consider(path, tokens, kmark.line() as u32, best) {
                return Some(kmark.line() as u32);
            }
            let (v, vmark) = p.next_token().ok()?;
            if let Some(l) = node(p, v, vmark.line() as u32, path, tokens, best) {
                return Some(l);
            }
            path.pop();
        },
        Event::SequenceStart(..) => {
            let mut i = 0usize;
            loop {
                let (e, mark) = p.next_token().ok()?;
                if matches!(e, Event::SequenceEnd) {
                    return None;
                }
                path.push(i.to_string());
                if consider(path, tokens, mark.line() as u32, best) {
                    return Some(mark.line() as u32);
                }
                if let Some(l) = node(p, e, mark.line() as u32, path, tokens, best) {
                    return Some(l);
                }
                path.pop();
                i += 1;
            }
        }
        _ => {
            let _ = line;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: &str) -> Vec<String> {
        crate::pointer::tokens(p).unwrap()
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
        assert_eq!(count_aliases("base: &b {x: 1}\nm:\n  <<: *b\n"), 1);
    }
}
