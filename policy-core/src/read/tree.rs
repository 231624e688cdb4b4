//! A read document as kubectl would build it, with where every node starts in the text: the
//! one intermediate form between the YAML/JSON readers and the typed serde_json read.

// Without YAML (the Kubewarden build) only JSON trees are built: no block styles or aliases.
#![cfg_attr(not(feature = "yaml"), allow(dead_code))]

use std::collections::HashMap;
use std::fmt::Write as _;

use super::resolve::{self, Scalar};

/// How a node was written, for text edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// A plain scalar.
    Plain,
    /// A quoted scalar (`'…'`, `"…"`).
    Quoted,
    /// A literal or folded block scalar (`|`, `>`).
    Block,
    /// A flow collection (`{…}`, `[…]`), JSON included.
    Flow,
    /// A block (indented) collection.
    Indented,
}

/// One node and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Byte offset in the whole input where the node starts.
    pub start: u32,
    /// Byte offset just past a flow collection's closing bracket; 0 when not recorded.
    pub end: u32,
    /// How it was written.
    pub style: Style,
    /// Whether the node came from an alias or a merge key (its text is elsewhere).
    pub copied: bool,
    /// What it holds.
    pub value: Val,
}

/// A node's content.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// A scalar.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in text order, keys unique (the last of duplicates kept).
    Map(Vec<Member>),
}

/// A mapping member.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// The key as a JSON member name.
    pub key: String,
    /// Byte offset where the key starts.
    pub key_start: u32,
    /// The value.
    pub value: Node,
}

impl Node {
    /// The member `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Val::Map(m) => m.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    /// The text of a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Val::Scalar(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// Nodes in this subtree and the bytes of text (strings and map keys) it holds: what a
    /// copy of it allocates, counted before anything is copied.
    pub fn weight(&self) -> (usize, usize) {
        let add = |(n, b): (usize, usize), (m, c): (usize, usize)| (n + m, b + c);
        match &self.value {
            Val::Scalar(Scalar::Str(s)) => (1, s.len()),
            Val::Scalar(_) => (1, 0),
            Val::Seq(items) => items.iter().map(Node::weight).fold((1, 0), add),
            Val::Map(m) => m
                .iter()
                .map(|e| add(e.value.weight(), (0, e.key.len())))
                .fold((1, 0), add),
        }
    }

    /// Nesting depth of this subtree (a scalar is 0).
    pub fn height(&self) -> usize {
        match &self.value {
            Val::Scalar(_) => 0,
            Val::Seq(items) => 1 + items.iter().map(Node::height).max().unwrap_or(0),
            Val::Map(m) => 1 + m.iter().map(|e| e.value.height()).max().unwrap_or(0),
        }
    }

    /// Marks this subtree as copied from elsewhere (alias, merge).
    pub fn mark_copied(&mut self) {
        self.copied = true;
        match &mut self.value {
            Val::Scalar(_) => {}
            Val::Seq(items) => items.iter_mut().for_each(Node::mark_copied),
            Val::Map(m) => m.iter_mut().for_each(|e| e.value.mark_copied()),
        }
    }

    /// The node at JSON Pointer `tokens`, with the offset of the deepest one found: the key of
    /// a member, the start of an item. `exact` says whether every token was found. One pointer
    /// at a time, for tests: judging locates all of a document's findings in one walk
    /// ([`super::locate::locate_all`]).
    #[cfg(test)]
    pub fn locate(&self, tokens: &[String]) -> (u32, bool) {
        let mut cur = self;
        let mut at = self.start;
        for t in tokens {
            let next = match &cur.value {
                Val::Map(m) => m
                    .iter()
                    .find(|e| &e.key == t)
                    .map(|e| (e.key_start, &e.value)),
                Val::Seq(items) => super::locate::index(t)
                    .and_then(|i| items.get(i))
                    .map(|n| (n.start, n)),
                Val::Scalar(_) => None,
            };
            match next {
                Some((offset, node)) => {
                    at = offset;
                    cur = node;
                }
                None => return (at, false),
            }
        }
        (at, true)
    }

    /// The node at `tokens`, if it exists.
    pub fn at(&self, tokens: &[String]) -> Option<&Node> {
        let mut cur = self;
        for t in tokens {
            cur = match &cur.value {
                Val::Map(m) => m.iter().find(|e| &e.key == t).map(|e| &e.value)?,
                Val::Seq(items) => items.get(t.parse::<usize>().ok()?)?,
                Val::Scalar(_) => return None,
            };
        }
        Some(cur)
    }

    /// Writes the node as JSON, the form kubectl sends to the API server. Fails on NaN and
    /// the infinities, which JSON cannot carry (Go's `json.Marshal` refuses them too).
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), u32> {
        match &self.value {
            Val::Scalar(s) => write_scalar(s, out).map_err(|()| self.start),
            Val::Seq(items) => {
                out.push(b'[');
                for (i, n) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    n.write_json(out)?;
                }
                out.push(b']');
                Ok(())
            }
            Val::Map(m) => {
                // Members in key order, as Go's `json.Marshal` writes the map sigs.k8s.io/yaml
                // builds: what the API server receives from kubectl.
                let mut order: Vec<&Member> = m.iter().collect();
                order.sort_unstable_by(|a, b| a.key.cmp(&b.key));
                out.push(b'{');
                for (i, e) in order.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(&e.key, out);
                    out.push(b':');
                    e.value.write_json(out)?;
                }
                out.push(b'}');
                Ok(())
            }
        }
    }

    /// The node as a `serde_json::Value`.
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            Val::Scalar(s) => match s {
                Scalar::Null => Value::Null,
                Scalar::Bool(b) => Value::Bool(*b),
                Scalar::Int(i) => Value::from(*i),
                Scalar::Uint(u) => Value::from(*u),
                Scalar::Float(f) => serde_json::Number::from_f64(*f)
                    .map(Value::Number)
                    .unwrap_or(Value::Null),
                Scalar::Str(s) => Value::String(s.clone()),
            },
            Val::Seq(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Val::Map(m) => Value::Object(
                m.iter()
                    .map(|e| (e.key.clone(), e.value.to_value()))
                    .collect(),
            ),
        }
    }
}

fn write_scalar(s: &Scalar, out: &mut Vec<u8>) -> Result<(), ()> {
    match s {
        Scalar::Null => out.extend_from_slice(b"null"),
        Scalar::Bool(true) => out.extend_from_slice(b"true"),
        Scalar::Bool(false) => out.extend_from_slice(b"false"),
        Scalar::Int(i) => {
            let mut b = itoa_buf();
            let _ = write!(b, "{i}");
            out.extend_from_slice(b.as_bytes());
        }
        Scalar::Uint(u) => {
            let mut b = itoa_buf();
            let _ = write!(b, "{u}");
            out.extend_from_slice(b.as_bytes());
        }
        Scalar::Float(f) if f.is_finite() => {
            out.extend_from_slice(resolve::json_float(*f).as_bytes());
        }
        Scalar::Float(_) => return Err(()),
        Scalar::Str(s) => write_str(s, out),
    }
    Ok(())
}

fn itoa_buf() -> String {
    String::with_capacity(20)
}

/// Writes a JSON string literal.
pub(crate) fn write_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[last..i]);
                let _ = write!(HexSink(out), "\\u{b:04x}");
                last = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(esc);
        last = i + 1;
    }
    out.extend_from_slice(&bytes[last..]);
    out.push(b'"');
}

struct HexSink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for HexSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Where each line of an input starts, so a byte offset becomes a line and column in
/// O(log lines).
#[derive(Debug, Clone)]
pub(crate) struct Lines {
    starts: Vec<u32>,
}

impl Lines {
    /// Indexes `text`.
    pub fn new(text: &[u8]) -> Self {
        let mut starts = vec![0u32];
        starts.extend(
            memchr::memchr_iter(b'\n', text).map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        Lines { starts }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: u32) -> u32 {
        let i = self.starts.partition_point(|&s| s <= offset);
        u32::try_from(i).unwrap_or(u32::MAX).max(1)
    }

    /// 1-based line and 1-based character column of a byte offset in `text`.
    pub fn line_col(&self, text: &str, offset: u32) -> (u32, u32) {
        let line = self.line(offset);
        let start = self.starts[(line - 1) as usize] as usize;
        let end = (offset as usize).min(text.len());
        let col = text
            .get(start..end)
            .map(|s| s.chars().count())
            .unwrap_or(end.saturating_sub(start));
        (line, u32::try_from(col + 1).unwrap_or(u32::MAX))
    }
}

/// Above this many members a mapping indexes its keys.
const LINEAR: usize = 16;

pub(crate) fn find(
    members: &[Member],
    index: Option<&HashMap<String, usize>>,
    key: &str,
) -> Option<usize> {
    match index {
        Some(ix) => ix.get(key).copied(),
        None => members.iter().position(|m| m.key == key),
    }
}

pub(crate) fn push(
    members: &mut Vec<Member>,
    index: &mut Option<HashMap<String, usize>>,
    m: Member,
) {
    if let Some(ix) = index {
        ix.insert(m.key.clone(), members.len());
    }
    members.push(m);
    if index.is_none() && members.len() > LINEAR {
        *index = Some(
            members
                .iter()
                .enumerate()
                .map(|(i, m)| (m.key.clone(), i))
                .collect(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// README's "Limits" sizes the `maxAliasNodes` ceiling by these: 1,000,000 copied nodes
    /// stay under about 100 MB (their text is budgeted apart, in bytes).
    #[test]
    fn a_node_takes_at_most_80_bytes() {
        assert!(
            std::mem::size_of::<Node>() <= 48,
            "{}",
            std::mem::size_of::<Node>()
        );
        assert!(
            std::mem::size_of::<Member>() <= 80,
            "{}",
            std::mem::size_of::<Member>()
        );
    }

    #[test]
    fn weight_counts_nodes_and_text() {
        let n = Node {
            start: 0,
            end: 0,
            style: Style::Flow,
            copied: false,
            value: Val::Map(vec![Member {
                key: String::from("key"),
                key_start: 0,
                value: Node {
                    start: 0,
                    end: 0,
                    style: Style::Plain,
                    copied: false,
                    value: Val::Seq(vec![
                        Node {
                            start: 0,
                            end: 0,
                            style: Style::Quoted,
                            copied: false,
                            value: Val::Scalar(Scalar::Str(String::from("hello"))),
                        },
                        Node {
                            start: 0,
                            end: 0,
                            style: Style::Plain,
                            copied: false,
                            value: Val::Scalar(Scalar::Int(1)),
                        },
                    ]),
                },
            }]),
        };
        assert_eq!(n.weight(), (4, 3 + 5));
    }

    #[test]
    fn lines_find_offsets() {
        let l = Lines::new(b"a\nbc\n\nd");
        assert_eq!(l.line(0), 1);
        assert_eq!(l.line(1), 1);
        assert_eq!(l.line(2), 2);
        assert_eq!(l.line(5), 3);
        assert_eq!(l.line(6), 4);
        assert_eq!(l.line_col("a\nbc\n\nd", 3), (2, 2));
    }

    #[test]
    fn strings_escape_as_json() {
        let mut out = Vec::new();
        write_str("a\"\\\n\u{1}é", &mut out);
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, "a\"\\\n\u{1}é");
    }
}
