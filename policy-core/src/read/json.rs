//! JSON text: one cheap pass that finds what the typed reader cannot see (duplicate keys,
//! nesting, a `kind: List`), a pass that finds where given fields start, and a reader into the
//! same [`Node`] tree YAML documents become, for the rare documents that need it.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use super::bytes;
use super::locate::Sorted;
use super::resolve::Scalar;
use super::tree::{find, push, Member, Node, Style, Val};
use super::{Duplicate, ReadError};

/// What the first pass found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scan {
    /// A mapping has the same key twice.
    pub duplicates: bool,
    /// Nesting goes deeper than the limit.
    pub too_deep: bool,
    /// The top level has an `items` member: kubectl reads the document as a list, whatever
    /// its kind (see `read::list_items`).
    pub list: bool,
    /// The text is not valid JSON (the typed reader says where).
    pub invalid: bool,
}

/// Deepest nesting the scanners follow; serde_json stops at 128 anyway.
const MAX_SCAN_DEPTH: usize = 128;

/// Scans JSON text once: duplicate keys (escapes decoded, so `"k\u0069nd"` is `kind`), nesting
/// beyond `max_depth`, and whether it is a list. Allocates only for keys with escapes.
#[cfg(test)]
pub(crate) fn scan(bytes: &[u8], max_depth: usize) -> Scan {
    scan_locate(bytes, max_depth, &[]).0
}

/// [`scan`], also finding where each of `pointers` starts (the key of a member, the start of an
/// item), or its deepest existing ancestor: the same single pass, so judging JSON text reads
/// it once more, not twice. The pointers are sorted first, so each member and item narrows its
/// parent's pointers by binary search: the pass costs the same whatever their number.
pub(crate) fn scan_locate(
    bytes: &[u8],
    max_depth: usize,
    pointers: &[Vec<Cow<'_, str>>],
) -> (Scan, Vec<u32>) {
    let ws = bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .count();
    let mut s = Scanner {
        b: bytes,
        i: ws,
        out: Scan::default(),
        limit: max_depth.min(MAX_SCAN_DEPTH),
        keys: Vec::with_capacity(64),
        pointers: Sorted::new(pointers),
        best: vec![(0, u32::try_from(ws).unwrap_or(0)); pointers.len()],
    };
    let all = s.pointers.all();
    if s.value(0, all).is_none() && !s.out.too_deep {
        s.out.invalid = true;
    }
    (s.out, s.best.into_iter().map(|(_, o)| o).collect())
}

struct Scanner<'a, 'p> {
    b: &'a [u8],
    i: usize,
    out: Scan,
    limit: usize,
    /// The keys of every open object, innermost last, each with its [`fingerprint`]: an
    /// object's keys are `keys[base..]` while it is read, and are dropped when it ends. An
    /// object with a key that has escapes, or with many keys, uses a set of its own instead.
    keys: Vec<(u64, &'a [u8])>,
    /// Pointers to locate, as tokens, sorted.
    pointers: Sorted<'p, Cow<'p, str>>,
    /// Per pointer: tokens matched so far and the offset of the deepest match.
    best: Vec<(usize, u32)>,
}

/// Length and the first, middle and last bytes of a key: different keys of one object almost
/// always differ here (label keys often share a prefix, so the last bytes count), in a few
/// instructions whatever the key's length.
#[inline(always)]
fn fingerprint(k: &[u8]) -> u64 {
    let n = k.len();
    let byte = |i: usize| k.get(i).copied().map_or(0, u64::from);
    ((n as u64) << 32) | byte(0) | (byte(n / 2) << 8) | (byte(n.wrapping_sub(1)) << 16)
}

impl<'a> Scanner<'a, '_> {
    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// Skips a string starting at `"`; returns its raw contents and whether it has escapes.
    /// Eight bytes are tested at a time for `"` or `\\` (most keys and values are shorter than
    /// `memchr`'s set-up is worth).
    #[inline(always)]
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        let start = self.i + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i += bytes::first_of2(self.b.get(i..)?, b'"', b'\\')?;
            if self.b[i] == b'\\' {
                escaped = true;
                i += 2;
            } else {
                self.i = i + 1;
                return Some((&self.b[start..i], escaped));
            }
        }
    }

    /// Skips a value, following the pointers in `live` (those whose tokens so far lead here);
    /// `None` on a syntax error or when too deep.
    fn value(&mut self, depth: usize, live: Range<usize>) -> Option<()> {
        match *self.b.get(self.i)? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.object(depth + 1, live),
            b'[' => self.array(depth + 1, live),
            _ => {
                let start = self.i;
                while let Some(c) = self.b.get(self.i) {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.i += 1;
                }
                (self.i > start).then_some(())
            }
        }
    }

    fn enter(&mut self, depth: usize) -> Option<()> {
        if depth > self.limit {
            self.out.too_deep = true;
            return None;
        }
        Some(())
    }

    /// Records the pointers of `next` (matched up to token `index`) as found at `at`.
    fn follow(&mut self, next: &Range<usize>, index: usize, at: usize) {
        for i in next.clone() {
            let p = self.pointers.pointer(i);
            if self.best[p].0 <= index {
                self.best[p] = (index + 1, u32::try_from(at).unwrap_or(u32::MAX));
            }
        }
    }

    fn array(&mut self, depth: usize, live: Range<usize>) -> Option<()> {
        self.enter(depth)?;
        self.i += 1;
        self.ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            return Some(());
        }
        let mut index = 0usize;
        loop {
            let next = self.pointers.item(live.clone(), depth - 1, index);
            self.follow(&next, depth - 1, self.i);
            index += 1;
            self.value(depth, next)?;
            self.ws();
            match self.b.get(self.i)? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn object(&mut self, depth: usize, live: Range<usize>) -> Option<()> {
        self.enter(depth)?;
        self.i += 1;
        let base = self.keys.len();
        // Hashed instead of compared once the object has many keys (a big ConfigMap).
        let mut set: Option<HashSet<Cow<'a, [u8]>>> = None;
        // One bit per fingerprint seen in this object: the keys are compared only on a hit.
        let mut seen = 0u64;
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Some(());
        }
        loop {
            if self.b.get(self.i) != Some(&b'"') {
                return None;
            }
            let key_at = self.i;
            let (raw, escaped) = self.string()?;
            let key: Cow<'a, [u8]> = if escaped {
                let quoted = &self.b[self.i - raw.len() - 2..self.i];
                let s: String = serde_json::from_slice(quoted).ok()?;
                Cow::Owned(s.into_bytes())
            } else {
                Cow::Borrowed(raw)
            };
            if self.b.get(self.i) != Some(&b':') {
                self.ws();
                if self.b.get(self.i) != Some(&b':') {
                    return None;
                }
            }
            self.i += 1;
            self.ws();
            if depth == 1 && key.as_ref() == b"items" {
                self.out.list = true;
            }
            let next = if live.is_empty() {
                live.clone()
            } else {
                match std::str::from_utf8(key.as_ref()) {
                    Ok(k) => self.pointers.member(live.clone(), depth - 1, k),
                    Err(_) => live.start..live.start,
                }
            };
            self.follow(&next, depth - 1, key_at);
            if set.is_none() && (escaped || self.keys.len() - base >= 32) {
                set = Some(
                    self.keys
                        .drain(base..)
                        .map(|(_, k)| Cow::Borrowed(k))
                        .collect(),
                );
            }
            if let Some(set) = &mut set {
                self.out.duplicates |= !set.insert(key);
            } else {
                let f = fingerprint(raw);
                let bit = 1u64 << ((f ^ (f >> 29)) & 63);
                if seen & bit != 0 && self.keys[base..].iter().any(|(g, k)| *g == f && *k == raw) {
                    self.out.duplicates = true;
                } else {
                    seen |= bit;
                    self.keys.push((f, raw));
                }
            }
            self.value(depth, next)?;
            if !matches!(self.b.get(self.i), Some(b',' | b'}')) {
                self.ws();
            }
            match self.b.get(self.i)? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b'}' => {
                    self.i += 1;
                    self.keys.truncate(base);
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// A JSON stream as Go's `json.Decoder` reads it: values one after another, whitespace or
/// nothing between them.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Stream {
    /// The byte range of each value read, in order.
    pub values: Vec<(usize, usize)>,
    /// Where reading the next value failed and why; `None` when only whitespace follows.
    pub failed: Option<(usize, String)>,
}

/// Splits JSON text into the values Go's `json.Decoder` reads one after another. Values are
/// checked for syntax only (numbers are not converted, as Go's decoder into a raw message does
/// not), so `1e400` is a value.
pub(crate) fn stream(text: &str) -> Stream {
    let mut out = Stream::default();
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<serde::de::IgnoredAny>();
    loop {
        let before = values.byte_offset();
        match values.next() {
            None => break,
            Some(Ok(_)) => {
                let end = values.byte_offset();
                let start = before
                    + text[before..end]
                        .bytes()
                        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                        .count();
                out.values.push((start, end));
            }
            Some(Err(e)) => {
                let at =
                    crate::read::json_position::offset_of(text.as_bytes(), e.line(), e.column());
                let mut message = e.to_string();
                if let Some(i) = message.find(" at line ") {
                    message.truncate(i);
                }
                out.failed = Some((at.max(before), message));
                break;
            }
        }
    }
    out
}

/// Reads JSON text into a tree with offsets (`base` is the text's offset in the input).
pub(crate) fn read(text: &str, base: u32) -> Result<(Node, Vec<Duplicate>), ReadError> {
    let mut r = TreeReader {
        b: text.as_bytes(),
        i: 0,
        base,
        duplicates: Vec::new(),
    };
    r.ws();
    let node = r.value(0)?;
    r.ws();
    if r.i < r.b.len() {
        return Err(r.error("not valid JSON: trailing characters"));
    }
    Ok((node, r.duplicates))
}

struct TreeReader<'a> {
    b: &'a [u8],
    i: usize,
    base: u32,
    duplicates: Vec<Duplicate>,
}

impl TreeReader<'_> {
    fn at(&self, i: usize) -> u32 {
        self.base + u32::try_from(i).unwrap_or(u32::MAX - self.base)
    }

    fn error(&self, message: &str) -> ReadError {
        ReadError {
            message: message.to_owned(),
            offset: self.at(self.i),
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn string(&mut self) -> Result<String, ReadError> {
        let start = self.i;
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            let off = self
                .b
                .get(i..)
                .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
                .ok_or_else(|| self.error("not valid JSON: unterminated string"))?;
            i += off;
            if self.b[i] == b'\\' {
                escaped = true;
                i += 2;
            } else {
                break;
            }
        }
        self.i = i + 1;
        let raw = &self.b[start..self.i];
        if escaped {
            serde_json::from_slice(raw).map_err(|e| ReadError {
                message: format!("not valid JSON: {e}"),
                offset: self.at(start),
            })
        } else {
            std::str::from_utf8(&raw[1..raw.len() - 1])
                .map(str::to_owned)
                .map_err(|_| ReadError {
                    message: String::from("not valid JSON: invalid UTF-8"),
                    offset: self.at(start),
                })
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, ReadError> {
        if depth > MAX_SCAN_DEPTH {
            return Err(self.error("document is nested too deeply (`limits.maxDepth`)"));
        }
        let start = self.i;
        let start_at = self.at(start);
        let node = |value, style| Node {
            start: start_at,
            end: 0,
            style,
            copied: false,
            value,
        };
        match self.b.get(self.i) {
            Some(b'"') => {
                let s = self.string()?;
                Ok(node(Val::Scalar(Scalar::Str(s)), Style::Quoted))
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => {
                                self.i += 1;
                                self.ws();
                            }
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.error("not valid JSON: expected `,` or `]`")),
                        }
                    }
                }
                let end = self.at(self.i);
                Ok(Node {
                    start: self.at(start),
                    end,
                    style: Style::Flow,
                    copied: false,
                    value: Val::Seq(items),
                })
            }
            Some(b'{') => {
                self.i += 1;
                let mut members: Vec<Member> = Vec::new();
                let mut index = None;
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        if self.b.get(self.i) != Some(&b'"') {
                            return Err(self.error("not valid JSON: expected a key"));
                        }
                        let key_start = self.at(self.i);
                        let key = self.string()?;
                        self.ws();
                        if self.b.get(self.i) != Some(&b':') {
                            return Err(self.error("not valid JSON: expected `:`"));
                        }
                        self.i += 1;
                        self.ws();
                        let value = self.value(depth + 1)?;
                        match find(&members, index.as_ref(), &key) {
                            Some(i) => {
                                self.duplicates.push(Duplicate {
                                    first: members[i].key_start,
                                    second: key_start,
                                });
                                members[i].key_start = key_start;
                                members[i].value = value;
                            }
                            None => push(
                                &mut members,
                                &mut index,
                                Member {
                                    key,
                                    key_start,
                                    value,
                                },
                            ),
                        }
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => {
                                self.i += 1;
                                self.ws();
                            }
                            Some(b'}') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.error("not valid JSON: expected `,` or `}`")),
                        }
                    }
                }
                let end = self.at(self.i);
                Ok(Node {
                    start: self.at(start),
                    end,
                    style: Style::Flow,
                    copied: false,
                    value: Val::Map(members),
                })
            }
            Some(_) => {
                while let Some(c) = self.b.get(self.i) {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.i += 1;
                }
                let word = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("");
                let scalar = match word {
                    "null" => Scalar::Null,
                    "true" => Scalar::Bool(true),
                    "false" => Scalar::Bool(false),
                    w => number(w).ok_or_else(|| ReadError {
                        message: format!("not valid JSON: `{w}`"),
                        offset: self.at(start),
                    })?,
                };
                Ok(node(Val::Scalar(scalar), Style::Plain))
            }
            None => Err(self.error("not valid JSON: unexpected end")),
        }
    }
}

fn number(w: &str) -> Option<Scalar> {
    let v: serde_json::Value = serde_json::from_str(w).ok()?;
    let n = v.as_number()?;
    Some(if let Some(i) = n.as_i64() {
        Scalar::Int(i)
    } else if let Some(u) = n.as_u64() {
        Scalar::Uint(u)
    } else {
        Scalar::Float(n.as_f64()?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::pointer::{borrowed_tokens, tokens};

    #[test]
    fn scan_finds_duplicates_depth_and_lists() {
        let s = scan(
            br#"{"kind":"ConfigMap","spec":{},"k\u0069nd":"StatefulSet"}"#,
            128,
        );
        assert!(s.duplicates && !s.list && !s.invalid);
        assert!(!scan(br#"{"a":{"x":1},"b":{"x":1}}"#, 128).duplicates);
        assert!(scan(br#"{"a":[[[1]]]}"#, 3).too_deep);
        assert!(!scan(br#"{"a":[[[1]]]}"#, 4).too_deep);
        assert!(scan(br#"{"kind":"PodList","items":[]}"#, 128).list);
        assert!(!scan(br#"{"kind":"PriorityList","spec":{}}"#, 128).list);
        // kubectl: any top-level `items`, whatever the kind or the value (helpers.go, `decode`).
        assert!(scan(br#"{"kind":"ConfigMap","items":null}"#, 128).list);
        assert!(scan(br#"{"kind":"List","items":{}}"#, 128).list);
        assert!(scan(br#"{"k\u0069nd":"X","\u0069tems":[]}"#, 128).list);
        assert!(!scan(br#"{"kind":"X","spec":{"items":[]}}"#, 128).list);
        assert!(scan(br#"{"a":1"#, 128).invalid);
        let many: String = (0..100).map(|i| format!("\"k{i}\":1,")).collect();
        assert!(scan(format!("{{{many}\"k7\":2}}").as_bytes(), 128).duplicates);
        // Keys of a parent, its children and its siblings never count as duplicates of each
        // other, before and after an object is hashed (more than 32 keys).
        let nested =
            format!("{{\"a\":{{\"a\":{{\"a\":1}}}},\"b\":{{{many}\"a\":{{\"k7\":1}}}},\"c\":1}}");
        assert!(!scan(nested.as_bytes(), 128).duplicates, "{nested}");
        assert!(scan(br#"{"a":{"b":{"c":1},"b":2}}"#, 128).duplicates);
        // Same fingerprint (length, first, middle and last bytes), different keys.
        assert!(!scan(br#"{"abxcd":1,"abycd":2}"#, 128).duplicates);
    }

    #[test]
    fn tree_and_locate_agree() {
        let text = "{\n  \"kind\": \"Pod\",\n  \"spec\": {\"containers\": [\n    {\"name\": \"a\"},\n    {\"image\": \"x\"}]}\n}\n";
        let (node, dups) = read(text, 0).unwrap();
        assert!(dups.is_empty());
        let want = [
            "/spec/containers/1/image",
            "/spec/containers/1",
            "/spec/nope",
            "/kind",
        ];
        let ptrs: Vec<Vec<Cow<str>>> = want.iter().map(|p| borrowed_tokens(p).unwrap()).collect();
        let (_, found) = scan_locate(text.as_bytes(), 128, &ptrs);
        for (p, at) in want.iter().zip(&found) {
            assert_eq!(node.locate(&tokens(p).unwrap()).0, *at, "{p:?}");
        }
        assert_eq!(&text[found[0] as usize..found[0] as usize + 7], "\"image\"");
    }

    /// Go's `json.Decoder` as apimachinery's `YAMLOrJSONDecoder` drives it
    /// (k8s.io/apimachinery `pkg/util/yaml/decoder.go`): values one after another, with or
    /// without whitespace between them, numbers checked for syntax only.
    #[test]
    fn stream_splits_values_as_go_json_decoder_does() {
        let s = stream("{\"a\":1}{\"b\":[2]} \n null\n{\"c\":1e400}\n");
        assert_eq!(s.values, vec![(0, 7), (7, 16), (19, 23), (24, 35)]);
        assert_eq!(s.failed, None);
        let s = stream("{\"a\":1}\n---\nkind: Pod\n");
        assert_eq!(s.values, vec![(0, 7)]);
        let (at, message) = s.failed.unwrap_or_default();
        // At the second `-`, where Go's scanner too finds "invalid character '-' in numeric literal".
        assert_eq!(at, 10, "{message}");
        let s = stream("{\"a\":1}\"");
        assert_eq!(s.values, vec![(0, 7)]);
        assert!(s.failed.is_some());
        let s = stream("{\"a\":");
        assert!(s.values.is_empty());
        assert!(s.failed.is_some());
    }

    #[test]
    fn tree_keeps_the_last_duplicate() {
        let (node, dups) = read(r#"{"kind":"A","kind":"B"}"#, 0).unwrap();
        assert_eq!(node.get("kind").unwrap().as_str(), Some("B"));
        assert_eq!((dups[0].first, dups[0].second), (1, 12));
    }
}
