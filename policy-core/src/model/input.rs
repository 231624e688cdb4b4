//! Reading input: splitting a text into documents, enforcing limits, and parsing each document
//! into typed objects with a precise error (field path, line, column) when it cannot be.

use serde::de::DeserializeSeed;
use serde_json::Value;

use crate::model::object::{Doc, DocSeed};
use crate::model::templates::Shapes;
use crate::read::limits::Limits;

/// What reading a document needs of the settings: the input limits and the pod-template
/// shapes (built-in and declared in settings `templates`). `Policy::reading` gives it.
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    /// Settings `limits`.
    pub limits: Limits,
    /// Where each kind keeps its pods.
    pub shapes: &'a Shapes,
}

/// Why a document cannot be judged; becomes an `input-invalid` finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong, for a user.
    pub message: String,
    /// JSON Pointer of the offending field, `""` when it is the document itself.
    pub path: String,
    /// 1-based line in the whole input, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
}

impl Problem {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            path: String::new(),
            line: None,
            column: None,
        }
    }
}

#[cfg(feature = "yaml")]
/// One document of a text input.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// The document's text.
    pub text: &'a str,
    /// Byte offset of its text in the whole input.
    pub start: usize,
}

#[cfg(feature = "yaml")]
/// Splits text into documents the way kubectl does: on lines that are `---`, optionally followed
/// by spaces and a comment. A JSON text is one document.
pub fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let b = text.as_bytes();
    let mut chunks = Vec::new();
    let mut start = 0usize;
    // Only a line that starts with `---` can be a separator: look at line starts alone.
    let mut at_line = |s: usize| {
        if !b[s..].starts_with(b"---") {
            return;
        }
        let end = memchr::memchr(b'\n', &b[s..]).map_or(b.len(), |n| s + n + 1);
        let rest = text[s + 3..end].trim_end_matches(['\n', '\r']).trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            chunks.push(Chunk {
                text: &text[start..s],
                start,
            });
            start = end;
        }
    };
    at_line(0);
    crate::read::bytes::each(b, b'\n', |i| {
        if i + 1 < b.len() {
            at_line(i + 1);
        }
    });
    chunks.push(Chunk {
        text: &text[start..],
        start,
    });
    chunks
}

#[cfg(feature = "yaml")]
/// Where kubectl stops reading a stream inside this document, if it does, and why: a line that
/// starts with `---` but is not a separator (k8s.io/apimachinery `pkg/util/yaml/decoder.go`,
/// `YAMLReader.Read`: "invalid Yaml document separator", the document is dropped), or a
/// document that begins with the end marker `...` (go-yaml v2: "did not find expected node
/// content"). kubectl applies neither that document nor any after it. The offset is within
/// `chunk`, a document as [`split_documents`] returns it (every real separator already split).
pub fn kubectl_stops(chunk: &str) -> Option<(usize, &'static str)> {
    if let Some(at) = chunk
        .strip_prefix("---")
        .map(|_| 0)
        .or_else(|| chunk.find("\n---").map(|i| i + 1))
    {
        return Some((
            at,
            "kubectl stops reading here: a line that starts with `---` must be a document separator, followed only by spaces or a comment (\"invalid Yaml document separator\"); kubectl applies neither this document nor any after it",
        ));
    }
    let mut at = 0;
    for line in chunk.split_inclusive('\n') {
        let t = line.trim_end();
        if let Some(rest) = t.strip_prefix("...") {
            let rest = rest.trim_start();
            if rest.is_empty() || rest.starts_with('#') {
                return Some((
                    at,
                    "kubectl stops reading here: a document cannot begin with the end marker `...` (\"did not find expected node content\"); remove it; kubectl applies neither this document nor any after it",
                ));
            }
        }
        if !(t.trim_start().is_empty() || t.trim_start().starts_with('#')) {
            return None;
        }
        at += line.len();
    }
    None
}

#[cfg(feature = "yaml")]
/// True when a document holds nothing but whitespace and comments.
pub fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "..."
    })
}

/// Whether JSON text nests maps/lists deeper than `limit`, stopping early once past it.
///
/// Runs on every request before parsing, so it skips string bodies eight bytes at a time
/// (kubernetes JSON is mostly strings) and looks only at structural bytes outside them.
pub fn json_depth_exceeds(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'"' => match string_end(bytes, i) {
                Some(end) => i = end,
                None => return false,
            },
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The index just past the closing quote of the string whose body starts at `i`, stepping
/// over escapes; `None` when the text ends first.
fn string_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `x` equal to `b`; exact for the lowest such byte, which is
    // the only one read.
    let eq = |x: u64, b: u8| {
        let y = x ^ (ONES * u64::from(b));
        y.wrapping_sub(ONES) & !y & HIGH
    };
    loop {
        while let Some(chunk) = bytes.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let x = u64::from_le_bytes(word);
            let hits = eq(x, b'"') | eq(x, b'\\');
            if hits != 0 {
                i += (hits.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        match bytes.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

/// Depth of a parsed value, stopping early once past `limit`.
pub fn value_depth_exceeds(v: &Value, limit: usize) -> bool {
    fn go(v: &Value, depth: usize, limit: usize) -> bool {
        match v {
            Value::Object(m) => depth + 1 > limit || m.values().any(|c| go(c, depth + 1, limit)),
            Value::Array(a) => depth + 1 > limit || a.iter().any(|c| go(c, depth + 1, limit)),
            _ => false,
        }
    }
    go(v, 0, limit)
}

pub(crate) fn depth_problem(limit: usize) -> Problem {
    Problem::new(format!(
        "document is nested more than {limit} levels deep (`limits.maxDepth`)"
    ))
}

/// Parses one JSON document: typed in one pass, and on failure names the field where the read
/// stopped (see [`crate::read::json_position`]).
pub fn json_doc(reading: Reading<'_>, bytes: &[u8]) -> Result<Doc, Problem> {
    let limits = reading.limits;
    // Wherever it is, a field the policy skips included, as the YAML reader refuses it.
    if json_depth_exceeds(bytes, limits.max_depth) {
        return Err(depth_problem(limits.max_depth));
    }
    json_doc_within_depth(reading, bytes)
}

/// [`json_doc`] of text whose nesting the caller has checked against `limits.maxDepth`.
pub(crate) fn json_doc_within_depth(reading: Reading<'_>, bytes: &[u8]) -> Result<Doc, Problem> {
    let limits = reading.limits;
    match typed(reading, bytes) {
        Ok(doc) => Ok(doc),
        Err(e) if is_recursion_limit(&e) => Err(depth_problem(limits.max_depth)),
        Err(typed_error) => match serde_json::from_slice::<Value>(bytes) {
            Err(e) => {
                let mut msg = e.to_string();
                if let Some(i) = msg.find(" at line ") {
                    msg.truncate(i);
                }
                Err(Problem {
                    message: format!("not valid JSON: {msg}"),
                    path: String::new(),
                    line: Some(e.line() as u32),
                    column: Some(e.column() as u32),
                })
            }
            Ok(v) if !v.is_object() => Err(not_an_object(&v)),
            // Read again from the value: its keys are sorted, so `apiVersion` and `kind` come
            // before the fields they decide and the error position names the field even when
            // the text put `spec` first.
            Ok(v) => match value_doc(reading, &v) {
                Err(p) => Err(p),
                Ok(_) => Err(type_problem(bytes, &typed_error)),
            },
        },
    }
}

/// Whether serde_json stopped at its nesting limit.
fn is_recursion_limit(e: &serde_json::Error) -> bool {
    e.to_string().starts_with("recursion limit exceeded")
}

/// The one typed read of a document: every input, JSON or YAML, goes through this deserializer.
///
/// Every caller has checked the nesting against `limits.maxDepth` (at most 128) first, so
/// serde_json's own limit is off: it stops at 127 levels where a field read before `kind`
/// is buffered, which would refuse a YAML document (written with sorted keys) that the same
/// JSON text passes.
///
/// An AdmissionRequest's `object` and `oldObject` are read first through the projection of
/// [`crate::model::slim`]; when that read fails for any reason the whole document is read again
/// in full, so every error (its message and position) is the full read's.
fn typed(reading: Reading<'_>, bytes: &[u8]) -> Result<Doc, serde_json::Error> {
    typed_with(reading, bytes, true).or_else(|_| typed_with(reading, bytes, false))
}

fn typed_with(reading: Reading<'_>, bytes: &[u8], slim: bool) -> Result<Doc, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    DocSeed {
        shapes: reading.shapes,
        slim,
    }
    .deserialize(&mut de)
    .and_then(|d| de.end().map(|()| d))
}

/// The typed read of JSON bytes the reader wrote itself, naming the field on failure.
pub(crate) fn typed_read(reading: Reading<'_>, bytes: &[u8]) -> Result<Doc, Problem> {
    typed(reading, bytes).map_err(|e| type_problem(bytes, &e))
}

/// A typed read's error, naming the field where it stopped.
fn type_problem(bytes: &[u8], e: &serde_json::Error) -> Problem {
    let offset = crate::read::json_position::offset_of(bytes, e.line(), e.column());
    let path = crate::read::json_position::pointer_at(bytes, offset);
    let mut msg = e.to_string();
    if let Some(i) = msg.find(" at line ") {
        msg.truncate(i);
    }
    Problem {
        message: explain(&path, &msg),
        path,
        line: None,
        column: None,
    }
}

pub(crate) fn not_an_object(v: &Value) -> Problem {
    Problem::new(format!(
        "not a Kubernetes object: the document is {}, not a map with `apiVersion` and `kind`",
        kind_of(v)
    ))
}

/// Parses one document already read into a `Value` (from YAML, a `List` item, a caller's
/// value), naming the field on failure. It is written out as JSON and read by the same typed
/// reader as JSON text.
pub fn value_doc(reading: Reading<'_>, v: &Value) -> Result<Doc, Problem> {
    let limits = reading.limits;
    if value_depth_exceeds(v, limits.max_depth) {
        return Err(depth_problem(limits.max_depth));
    }
    if !v.is_object() {
        return Err(not_an_object(v));
    }
    let bytes = serde_json::to_vec(v)
        .map_err(|e| Problem::new(format!("cannot read the document: {e}")))?;
    typed(reading, &bytes).map_err(|e| type_problem(&bytes, &e))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Words a deserialization error for a user, naming the field and the usual fix.
fn explain(path: &str, err: &str) -> String {
    let field = if path.is_empty() {
        String::from("the document")
    } else {
        format!("`{path}`")
    };
    let wants_string = err.contains("expected a string");
    let scalar = ["boolean", "integer", "floating point"]
        .iter()
        .find(|t| err.contains(&format!("invalid type: {t}")));
    let wants_number = [" expected i", " expected u", " expected f"]
        .iter()
        .any(|x| err.contains(x));
    if wants_number && err.starts_with("invalid type: string") {
        let found = err.split('"').nth(1).unwrap_or("");
        return format!(
            "{field} must be a number but is the string \"{found}\"; remove the quotes"
        );
    }
    match (wants_string, scalar) {
        (true, Some(t)) => {
            let found = err
                .split('`')
                .nth(1)
                .map(|v| format!(" `{v}`"))
                .unwrap_or_default();
            format!(
                "{field} must be a string but is an unquoted {t}{found}; quote it (e.g. \"{}\")",
                err.split('`').nth(1).unwrap_or("true")
            )
        }
        _ => format!("{field}: {err}"),
    }
}

/// Parses settings text (JSON, or YAML with the `yaml` feature) into a `Value`.
pub(crate) fn parse_settings_value(text: &str) -> Result<Value, String> {
    let t = text.trim_start();
    if t.starts_with('{') || !cfg!(feature = "yaml") {
        return serde_json::from_str(text).map_err(|e| format!("settings are not valid JSON: {e}"));
    }
    #[cfg(feature = "yaml")]
    {
        let mut docs = crate::model::kubectl_yaml::parse_documents(text, 0);
        docs.retain(|d| !matches!(d, Ok(Value::Null)));
        match docs.len() {
            0 => Ok(Value::Null),
            1 => docs.remove(0).map_err(|p| {
                // "settings are not valid YAML: …", else "settings cannot be read: document
                // is nested …".
                let what = if p.message.starts_with("not valid YAML") {
                    format!("settings are {}", p.message)
                } else {
                    format!("settings cannot be read: {}", p.message)
                };
                match p.line {
                    Some(l) => format!("{what} (line {l})"),
                    None => what,
                }
            }),
            _ => Err(String::from("settings must be a single YAML document")),
        }
    }
    #[cfg(not(feature = "yaml"))]
    unreachable!()
}

/// Every document of a text as a JSON value (JSON text is one document; YAML is split like
/// kubectl does). Blank and empty documents are left out.
pub fn parse_values(text: &str) -> Vec<Result<Value, Problem>> {
    if text.trim_start().starts_with('{') || !cfg!(feature = "yaml") {
        return vec![serde_json::from_str::<Value>(text).map_err(|e| Problem {
            message: format!("not valid JSON: {e}"),
            path: String::new(),
            line: Some(e.line() as u32),
            column: Some(e.column() as u32),
        })];
    }
    #[cfg_attr(not(feature = "yaml"), allow(unused_mut))]
    let mut out = Vec::new();
    #[cfg(feature = "yaml")]
    for v in crate::model::kubectl_yaml::parse_documents(text, 0) {
        if !matches!(v, Ok(Value::Null)) {
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::policy::Policy;

    #[test]
    fn type_errors_name_the_field_even_when_kind_comes_last() {
        let policy = Policy::default();
        let text = br#"{"spec":{"containers":[{"name":"a","ports":[{"containerPort":"80"}]}]},"apiVersion":"v1","kind":"Pod"}"#;
        let p = json_doc(policy.reading(), text).err().unwrap();
        assert_eq!(p.path, "/spec/containers/0/ports/0/containerPort");
        assert!(p.message.contains("must be a number"), "{}", p.message);
    }

    #[test]
    fn json_depth_counts_structure_not_strings() {
        assert!(!json_depth_exceeds(br#"{"a":[1,{"b":"[[[[{{{{"}]}"#, 3));
        assert!(json_depth_exceeds(br#"{"a":[1,{"b":[]}]}"#, 3));
        assert!(!json_depth_exceeds(br#"{"a":[1,{"b":[]}]}"#, 4));
        assert!(!json_depth_exceeds(br#"{"a\"[[[[":"\\"}"#, 1));
        assert!(json_depth_exceeds(&[b'['; 200], 128));
        assert!(!json_depth_exceeds(br#""unterminated [[[["#, 1));
        assert!(!json_depth_exceeds(b"\"ends in escape\\", 1));
    }

    /// The byte-by-byte depth scan `json_depth_exceeds` replaced, kept to compare against.
    fn depth_exceeds_by_bytes(bytes: &[u8], limit: usize) -> bool {
        let mut depth = 0usize;
        let mut i = 0usize;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => {
                    i += 1;
                    loop {
                        match bytes.get(i) {
                            None => return false,
                            Some(b'\\') => i += 2,
                            Some(b'"') => break,
                            Some(_) => i += 1,
                        }
                    }
                }
                b'{' | b'[' => {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
        false
    }

    #[test]
    fn json_depth_reads_strings_as_the_byte_scan_does() {
        // Every mix of quotes, escapes, brackets and filler at every offset of the 8-byte words.
        let alphabet: &[u8] = b"\"\\[]{}a";
        let mut text = Vec::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..4000 {
            text.clear();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let mut s = seed;
            for _ in 0..len {
                text.push(alphabet[(s % alphabet.len() as u64) as usize]);
                s = s.rotate_right(3) ^ 0x9e37_79b9_7f4a_7c15;
            }
            for limit in [0, 1, 2, 3] {
                assert_eq!(
                    json_depth_exceeds(&text, limit),
                    depth_exceeds_by_bytes(&text, limit),
                    "{:?} limit {limit}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
        let long = format!("{{\"{}\\\"{}\":[[[", "x".repeat(37), "é".repeat(20));
        assert!(json_depth_exceeds(long.as_bytes(), 3));
        assert!(!json_depth_exceeds(long.as_bytes(), 4));
    }

    /// The line-by-line splitter `split_documents` replaced, kept to compare against.
    fn split_by_lines(text: &str) -> Vec<(usize, &str)> {
        let mut chunks = Vec::new();
        let (mut start, mut pos) = (0usize, 0usize);
        for line in text.split_inclusive('\n') {
            let bare = line.trim_end_matches(['\n', '\r']);
            if let Some(rest) = bare.strip_prefix("---") {
                let rest = rest.trim_start();
                if rest.is_empty() || rest.starts_with('#') {
                    chunks.push((start, &text[start..pos]));
                    start = pos + line.len();
                }
            }
            pos += line.len();
        }
        chunks.push((start, &text[start..]));
        chunks
    }

    #[test]
    fn splits_as_the_line_by_line_reader_did() {
        let cases = [
            "",
            "---",
            "---\n",
            "\n---",
            "a\n---",
            "---x\n---\n",
            "--- # c\r\n---\t\n",
            "a: 1\n---\nb: 2\n--- # c\nc: 3\n---x\n",
            " ---\n----\n---\u{3000}\n",
            "---\n---\n---",
            "x\r\n---\r\ny\r\n",
            "é\n---\n€---\n--- é\n",
        ];
        for text in cases {
            let got: Vec<(usize, &str)> = split_documents(text)
                .iter()
                .map(|c| (c.start, c.text))
                .collect();
            assert_eq!(got, split_by_lines(text), "{text:?}");
        }
    }

    #[test]
    fn finds_where_kubectl_stops() {
        let stops = |t: &str| kubectl_stops(t).map(|(at, _)| at);
        // apimachinery decoder.go YAMLReader.Read: only spaces or a comment may follow `---`.
        assert_eq!(stops("--- {a: 1}\n"), Some(0));
        assert_eq!(stops("a: 1\n---x\n"), Some(5));
        assert_eq!(stops("a: 1\r\n----\r\n"), Some(6));
        assert_eq!(stops("a: 1\n --- x\nb: |\n  ---\n"), None);
        // go-yaml v2 refuses a document that begins with `...`, comments and blank lines aside.
        assert_eq!(stops("\n...\n"), Some(1));
        assert_eq!(stops("# c\n... # end\na: 1\n"), Some(4));
        assert_eq!(stops("a: 1\n...\n"), None);
        assert_eq!(stops("  ...\n"), None);
        assert_eq!(stops("...x\n"), None);
        assert_eq!(stops("# only\n\n"), None);
    }

    #[test]
    fn splits_like_kubectl() {
        let c = split_documents("a: 1\n---\nb: 2\n--- # c\nc: 3\n---x\n");
        assert_eq!(c.len(), 3);
        assert_eq!(c[1].text, "b: 2\n");
        assert_eq!(c[2].text, "c: 3\n---x\n");
        assert!(is_blank("# only\n\n...\n"));
    }
}
