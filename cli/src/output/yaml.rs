//! A small block-style YAML writer for JSON values (`cks-policy vap`): maps and lists as
//! blocks, scalars in JSON form (a JSON string is a valid YAML double-quoted scalar).

use serde_json::Value;

/// One YAML document (without the `---` line) for `value`.
pub fn yaml(value: &Value) -> String {
    let mut out = String::new();
    block(value, 0, &mut out);
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Array(a) if a.is_empty() => String::from("[]"),
        Value::Object(o) if o.is_empty() => String::from("{}"),
        v => v.to_string(),
    }
}

fn complex(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty()) || matches!(v, Value::Object(o) if !o.is_empty())
}

/// Writes the entries of a map or list at `indent` (each on its own line).
fn block(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, v) in o {
                let key = Value::String(k.clone()).to_string();
                let key =
                    if k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !k.is_empty() {
                        k.clone()
                    } else {
                        key
                    };
                if complex(v) {
                    out.push_str(&format!("{pad}{key}:\n"));
                    let inner = if v.is_array() { indent } else { indent + 2 };
                    block(v, inner, out);
                } else {
                    out.push_str(&format!("{pad}{key}: {}\n", scalar(v)));
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for v in a {
                if complex(v) {
                    // `- ` then the first line of the block on the same line.
                    let mut inner = String::new();
                    block(v, indent + 2, &mut inner);
                    let trimmed = inner.get(indent + 2..).unwrap_or_default();
                    out.push_str(&format!("{pad}- {trimmed}"));
                } else {
                    out.push_str(&format!("{pad}- {}\n", scalar(v)));
                }
            }
        }
        v => out.push_str(&format!("{pad}{}\n", scalar(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_yaml_reads_back_as_the_same_value() {
        let v = serde_json::json!({
            "a": {"b": [1, {"c": "x: y", "d": []}, [2, 3]], "e": {}},
            "f g": "it's \"quoted\"\n",
            "h": [{"i": {"j": true}}],
        });
        let text = yaml(&v);
        let docs = policy_core::yaml::parse_documents(&text, 0);
        assert_eq!(docs.len(), 1, "{text}");
        assert_eq!(docs[0].as_ref().ok(), Some(&v), "{text}");
    }
}
