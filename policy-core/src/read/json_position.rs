//! Where a typed JSON read stopped, as a JSON Pointer: the field a deserialization error is about.
//!
//! serde_json reports a type error with the line and column where it stopped reading, right after
//! the offending value (or at the `}` of an object that lacks a field). Walking the text up to
//! that point while tracking object keys and array indices names the field. Every document, JSON
//! or YAML (converted to JSON), is read typed by the one serde_json deserializer this way, so the
//! large Kubernetes type decoders are compiled once, not once per deserializer.

/// One open container while walking.
enum Frame {
    /// An object and the key whose value is being read, once read.
    Object(Option<String>),
    /// An array and the index of the element being read, once it has begun.
    Array(usize, bool),
}

/// Byte offset of serde_json's 1-based `line` and byte `column` in `bytes`.
pub(crate) fn offset_of(bytes: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    if line > 1 {
        let mut seen = 1;
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' {
                seen += 1;
                if seen == line {
                    start = i + 1;
                    break;
                }
            }
        }
    }
    (start + column).min(bytes.len())
}

/// The JSON Pointer of the value being read at byte `offset` of the JSON text `bytes`: the keys
/// and indices of every container open there, including the key or element just read.
pub(crate) fn pointer_at(bytes: &[u8], offset: usize) -> String {
    let end = offset.min(bytes.len());
    let mut stack: Vec<Frame> = Vec::new();
    // In an object: true until the key of the current member has been read.
    let mut expect_key = false;
    let mut i = 0;
    while i < end {
        let b = bytes[i];
        match b {
            b'{' => {
                begin_value(&mut stack);
                stack.push(Frame::Object(None));
                expect_key = true;
                i += 1;
            }
            b'[' => {
                begin_value(&mut stack);
                stack.push(Frame::Array(0, false));
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
                i += 1;
            }
            b',' => {
                match stack.last_mut() {
                    Some(Frame::Object(key)) => {
                        *key = None;
                        expect_key = true;
                    }
                    Some(Frame::Array(index, started)) => {
                        *index += 1;
                        *started = false;
                    }
                    None => {}
                }
                i += 1;
            }
            b':' => {
                expect_key = false;
                i += 1;
            }
            b'"' => {
                let close = string_end(bytes, i);
                if expect_key {
                    if let Some(Frame::Object(key)) = stack.last_mut() {
                        *key = Some(decode(&bytes[i..close.min(bytes.len())]));
                    }
                } else {
                    begin_value(&mut stack);
                }
                i = close;
            }
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            _ => {
                begin_value(&mut stack);
                i += 1;
            }
        }
    }
    let mut pointer = String::new();
    for frame in &stack {
        match frame {
            Frame::Object(Some(key)) => crate::read::pointer::push(&mut pointer, key),
            Frame::Array(index, true) => crate::read::pointer::push_index(&mut pointer, *index),
            Frame::Object(None) | Frame::Array(_, false) => {}
        }
    }
    pointer
}

/// Marks the current array element as begun (a value starts inside an array).
fn begin_value(stack: &mut [Frame]) {
    if let Some(Frame::Array(_, started)) = stack.last_mut() {
        *started = true;
    }
}

/// Index just past the string starting at `start` (its opening quote), escapes skipped.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The text of a JSON string literal (quotes included), escapes decoded.
fn decode(literal: &[u8]) -> String {
    if !literal.contains(&b'\\') {
        let inner = literal
            .get(1..literal.len().saturating_sub(1))
            .unwrap_or_default();
        return String::from_utf8_lossy(inner).into_owned();
    }
    serde_json::from_slice::<String>(literal)
        .unwrap_or_else(|_| String::from_utf8_lossy(literal).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pointer where a typed read of `json` as `T` stops with an error.
    fn at<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
        let e = serde_json::from_str::<T>(json).unwrap_err();
        pointer_at(
            json.as_bytes(),
            offset_of(json.as_bytes(), e.line(), e.column()),
        )
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Meta {
        name: Option<String>,
        labels: Option<std::collections::BTreeMap<String, String>>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        metadata: Option<Meta>,
        items: Option<Vec<Meta>>,
        required: Option<Req>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Req {
        must: String,
    }

    #[test]
    fn names_the_field_of_a_type_error() {
        assert_eq!(
            at::<Doc>(r#"{"metadata": {"name": true}}"#),
            "/metadata/name"
        );
        assert_eq!(
            at::<Doc>("{\n  \"metadata\": {\n    \"labels\": {\"a/b\": 1.5}\n  }\n}"),
            "/metadata/labels/a~1b"
        );
        assert_eq!(
            at::<Doc>(r#"{"items": [{"name": "a"}, {"name": "b"}, {"name": 7}]}"#),
            "/items/2/name"
        );
        assert_eq!(at::<Doc>(r#"{"items": [{}, "x"]}"#), "/items/1");
        assert_eq!(at::<Doc>(r#"{"metadata": []}"#), "/metadata");
        assert_eq!(at::<Doc>(r#"{"items": {"a": 1}}"#), "/items");
    }

    #[test]
    fn names_the_object_that_lacks_a_field() {
        assert_eq!(at::<Doc>(r#"{"required": {}}"#), "/required");
        assert_eq!(
            at::<Doc>(r#"{"required": {"other": 1}, "x": 2}"#),
            "/required"
        );
    }

    #[test]
    fn escapes_and_strings_do_not_confuse_the_walk() {
        assert_eq!(
            at::<Doc>(r#"{"metadata": {"labels": {"q\"{[,:": "}]", "k\u00e9": false}}}"#),
            "/metadata/labels/k\u{e9}"
        );
        assert_eq!(
            at::<Doc>(r#"{"metadata": {"labels": {"m~n": null, "x": {}}}}"#),
            "/metadata/labels/m~0n"
        );
    }

    #[test]
    fn offsets_follow_lines() {
        let t = b"ab\ncd\nef";
        assert_eq!(offset_of(t, 1, 2), 2);
        assert_eq!(offset_of(t, 2, 1), 4);
        assert_eq!(offset_of(t, 3, 2), 8);
        assert_eq!(offset_of(t, 9, 9), 8);
        assert_eq!(pointer_at(b"", 10), "");
    }
}
