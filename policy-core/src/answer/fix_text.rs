//! The fixed manifest, as `cks-policy check --fix` prints it and the browser checker shows it:
//! each document's patch applied as text edits at the positions the reader recorded. Only the
//! patched nodes change; comments, key order, quoting and every other line stay byte for byte.
//!
//! Whatever is written is read back with the same reader kubectl's YAML 1.1 rules are
//! implemented in, and must equal the original document with the patch applied; otherwise
//! nothing is written and the error says which document could not be edited.

use serde_json::Value;

use crate::answer::patch;
use crate::judge::verdict::{Fixed, Report};
use crate::judge::verdict::{PatchKind, PatchOp};
use crate::model::input::{is_blank, kubectl_stops, split_documents};
use crate::read::json;
use crate::read::pointer;
use crate::read::resolve::{self, Scalar};
use crate::read::tree::{Node, Style, Val};
use crate::read::yaml::{read, Budget};
use crate::settings::error::FixError;

/// One document of the text, numbered as [`crate::check`] numbers them.
struct DocAt {
    root: Node,
    /// Whether it is JSON text (edits write JSON).
    json: bool,
}

/// Reads the documents of `text` in the order `check` numbers them; `None` for a document that
/// cannot be read.
fn documents(text: &str) -> Vec<Option<DocAt>> {
    if text.trim_start().starts_with('{') {
        return vec![json::read(text, 0)
            .ok()
            .map(|(root, _)| DocAt { root, json: true })];
    }
    let mut out = Vec::new();
    let mut budget = Budget::default_for(text.len());
    for chunk in split_documents(text) {
        // One unreadable document, as `check` numbers it.
        if kubectl_stops(chunk.text).is_some() {
            out.push(None);
            continue;
        }
        if is_blank(chunk.text) {
            continue;
        }
        for d in read(chunk.text, chunk.start as u32, &mut budget) {
            match d {
                Ok(d) if matches!(d.root.value, Val::Scalar(Scalar::Null)) => {}
                Ok(d) => out.push(Some(DocAt {
                    root: d.root,
                    json: false,
                })),
                Err(_) => out.push(None),
            }
        }
    }
    out
}

/// Applies each document's patch (from `report`, judged from `text`) to that document.
pub fn apply(text: &str, report: &Report) -> Result<Fixed, FixError> {
    let (bom, text) = match text.strip_prefix('\u{feff}') {
        Some(t) => ("\u{feff}", t),
        None => ("", text),
    };
    if !report.results.iter().any(|r| !r.patch.is_empty()) {
        return Ok(Fixed {
            text: format!("{bom}{text}"),
            changed: false,
        });
    }
    let docs = documents(text);
    let mut edits: Vec<Edit> = Vec::new();
    let mut expected: Vec<(usize, Value)> = Vec::new();
    for (index, doc) in docs.iter().enumerate() {
        let ops: Vec<&PatchOp> = report
            .results
            .iter()
            .filter(|r| r.document == index)
            .flat_map(|r| r.patch.iter())
            .collect();
        if ops.is_empty() {
            continue;
        }
        let doc = doc.as_ref().ok_or_else(|| {
            FixError(format!(
                "document {index} cannot be read again to be edited"
            ))
        })?;
        let mut want = doc.root.to_value();
        let owned: Vec<PatchOp> = ops.iter().map(|o| (*o).clone()).collect();
        patch::apply(&mut want, &owned).map_err(|e| FixError(e.to_string()))?;
        // Each op is planned against the document as the previous ops left it.
        let mut current = doc.root.to_value();
        let mut doc_edits = Vec::new();
        for op in &ops {
            doc_edits.push(
                plan(text, &doc.root, &current, op, doc.json).map_err(|why| {
                    FixError(format!(
                        "document {index}: cannot edit `{}` in place ({why}); nothing was written",
                        op.path
                    ))
                })?,
            );
            patch::apply(&mut current, std::slice::from_ref(*op))
                .map_err(|e| FixError(e.to_string()))?;
        }
        edits.extend(doc_edits);
        expected.push((index, want));
    }
    let out = apply_edits(text, edits)?;
    // Read the result back as kubectl would and compare.
    let again = documents(&out);
    for (index, want) in expected {
        let got = again
            .get(index)
            .and_then(Option::as_ref)
            .map(|d| d.root.to_value());
        if got.as_ref() != Some(&want) {
            return Err(FixError(format!(
                "document {index}: the edited text would not read back as the patched object; nothing was written"
            )));
        }
    }
    Ok(Fixed {
        changed: out != text,
        text: format!("{bom}{out}"),
    })
}

/// Replace `start..end` of the text with `text`.
#[derive(Debug)]
struct Edit {
    start: usize,
    end: usize,
    text: String,
    /// Order of edits at the same offset (plan order).
    seq: usize,
}

fn apply_edits(text: &str, mut edits: Vec<Edit>) -> Result<String, FixError> {
    for (i, e) in edits.iter_mut().enumerate() {
        e.seq = i;
    }
    edits.sort_by_key(|e| (e.start, e.seq));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0usize;
    for e in edits {
        if e.start < at || e.end < e.start || e.end > text.len() {
            return Err(FixError(String::from(
                "two fixes touch the same text; nothing was written",
            )));
        }
        out.push_str(&text[at..e.start]);
        out.push_str(&e.text);
        at = e.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// Plans the text edit for one op. `current` is the document as earlier ops left it, used
/// only to know array lengths for `-`; positions come from the text as read.
fn plan(
    text: &str,
    root: &Node,
    current: &Value,
    op: &PatchOp,
    json: bool,
) -> Result<Edit, String> {
    let tokens = pointer::tokens(&op.path).ok_or("invalid pointer")?;
    let (last, parents) = tokens.split_last().ok_or("the whole document")?;
    let parent = root.at(parents).ok_or("its parent is not in the text")?;
    if parent.copied {
        return Err("it comes from a YAML alias or merge key".into());
    }
    let value = op.value.clone().unwrap_or(Value::Null);
    match (&parent.value, op.op) {
        (Val::Map(members), PatchKind::Add | PatchKind::Replace) => {
            match members.iter().find(|m| &m.key == last) {
                Some(m) => replace(text, parent, m.key_start, &m.value, &value, json),
                None if op.op == PatchKind::Add => insert_member(text, parent, last, &value, json),
                None => Err("the member is missing".into()),
            }
        }
        (Val::Map(members), PatchKind::Remove) => {
            let m = members
                .iter()
                .find(|m| &m.key == last)
                .ok_or("the member is missing")?;
            remove_member(text, parent, m.key_start, &m.value)
        }
        (Val::Seq(items), PatchKind::Add) => {
            let len = match current.pointer(&pointer_of(parents)) {
                Some(Value::Array(a)) => a.len(),
                _ => items.len(),
            };
            let index = if last == "-" {
                len
            } else {
                last.parse().map_err(|_| "bad index")?
            };
            if len != items.len() {
                return Err("the list was already changed by another fix".into());
            }
            insert_item(text, parent, items, index, &value, json)
        }
        (Val::Seq(items), PatchKind::Replace) => {
            let i: usize = last.parse().map_err(|_| "bad index")?;
            let item = items.get(i).ok_or("index out of range")?;
            replace(text, parent, item.start, item, &value, json)
        }
        _ => Err("unsupported edit".into()),
    }
}

fn pointer_of(tokens: &[String]) -> String {
    let mut p = String::new();
    for t in tokens {
        pointer::push(&mut p, t);
    }
    p
}

/// Replaces a value node (a member's, with its key at `key_start`, or an item).
fn replace(
    text: &str,
    parent: &Node,
    key_start: u32,
    node: &Node,
    value: &Value,
    json: bool,
) -> Result<Edit, String> {
    if node.copied {
        return Err("it comes from a YAML alias or merge key".into());
    }
    let start = node.start as usize;
    let flow = json || parent.style == Style::Flow;
    match (&node.value, node.style) {
        (Val::Scalar(_), Style::Plain | Style::Quoted) => {
            let end = scalar_end(text, start, node.style, flow).ok_or("cannot find its end")?;
            Ok(Edit {
                start,
                end,
                text: inline(value, flow),
                seq: 0,
            })
        }
        (Val::Seq(_) | Val::Map(_), Style::Flow) => Ok(Edit {
            start,
            end: node.end as usize,
            text: inline(value, true),
            seq: 0,
        }),
        (Val::Seq(_) | Val::Map(_), Style::Indented) if key_start != node.start => {
            // `key:\n  - a\n  - b` becomes `key: [...]` on the key's line.
            let colon =
                after_colon(text, key_start as usize).ok_or("cannot find the key's colon")?;
            let end = block_end(text, node).ok_or("cannot find its end")?;
            Ok(Edit {
                start: colon,
                end,
                text: format!(" {}", inline(value, true)),
                seq: 0,
            })
        }
        _ => Err("a block scalar or nested block".into()),
    }
}

fn insert_member(
    text: &str,
    parent: &Node,
    key: &str,
    value: &Value,
    json: bool,
) -> Result<Edit, String> {
    let Val::Map(members) = &parent.value else {
        return Err("not a map".into());
    };
    if json || parent.style == Style::Flow {
        let close = (parent.end as usize)
            .checked_sub(1)
            .ok_or("no closing brace")?;
        let member = format!("{}: {}", json_string(key), inline(value, true));
        let text = if members.is_empty() {
            member
        } else {
            format!(", {member}")
        };
        return Ok(Edit {
            start: close,
            end: close,
            text,
            seq: 0,
        });
    }
    let first = members.first().ok_or("an empty block map")?;
    let indent = column(text, first.key_start as usize);
    let last = members.last().ok_or("an empty block map")?;
    let end = value_end(text, &last.value).ok_or("cannot find where the map ends")?;
    let at = line_after(text, end);
    let pad = " ".repeat(indent);
    let mut line = format!("{pad}{}:", block_key(key));
    block_value(&mut line, value, indent);
    Ok(Edit {
        start: at.0,
        end: at.0,
        text: format!("{}{line}", at.1),
        seq: 0,
    })
}

fn insert_item(
    text: &str,
    parent: &Node,
    items: &[Node],
    index: usize,
    value: &Value,
    json: bool,
) -> Result<Edit, String> {
    if index > items.len() {
        return Err("index out of range".into());
    }
    if json || parent.style == Style::Flow {
        let item = inline(value, true);
        return Ok(match items.get(index) {
            Some(next) => Edit {
                start: next.start as usize,
                end: next.start as usize,
                text: format!("{item}, "),
                seq: 0,
            },
            None => {
                let close = (parent.end as usize)
                    .checked_sub(1)
                    .ok_or("no closing bracket")?;
                Edit {
                    start: close,
                    end: close,
                    text: if items.is_empty() {
                        item
                    } else {
                        format!(", {item}")
                    },
                    seq: 0,
                }
            }
        });
    }
    let first = items.first().ok_or("an empty block list")?;
    let dash = dash_before(text, first.start as usize).ok_or("cannot find the item's `-`")?;
    let indent = column(text, dash);
    let pad = " ".repeat(indent);
    let mut line = format!("{pad}-");
    block_item(&mut line, value, indent);
    match items.get(index) {
        Some(next) => {
            let d = dash_before(text, next.start as usize).ok_or("cannot find the item's `-`")?;
            let start = d - column(text, d);
            Ok(Edit {
                start,
                end: start,
                text: line,
                seq: 0,
            })
        }
        None => {
            let last = items.last().ok_or("an empty block list")?;
            let end = value_end(text, last).ok_or("cannot find where the list ends")?;
            let at = line_after(text, end);
            Ok(Edit {
                start: at.0,
                end: at.0,
                text: format!("{}{line}", at.1),
                seq: 0,
            })
        }
    }
}

fn remove_member(text: &str, parent: &Node, key_start: u32, value: &Node) -> Result<Edit, String> {
    let key_start = key_start as usize;
    if parent.style == Style::Flow {
        let end = value_end(text, value).ok_or("cannot find its end")?;
        let rest = &text[end..];
        let after = rest.len() - rest.trim_start().len();
        if rest[after..].starts_with(',') {
            let tail = &rest[after + 1..];
            let ws = tail.len() - tail.trim_start().len();
            return Ok(Edit {
                start: key_start,
                end: end + after + 1 + ws,
                text: String::new(),
                seq: 0,
            });
        }
        let before = text[..key_start].trim_end();
        return match before.strip_suffix(',') {
            Some(b) => Ok(Edit {
                start: b.len(),
                end,
                text: String::new(),
                seq: 0,
            }),
            None => Ok(Edit {
                start: key_start,
                end,
                text: String::new(),
                seq: 0,
            }),
        };
    }
    let line_start = text[..key_start].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..key_start].bytes().all(|b| b == b' ') {
        return Err("the key shares its line with a `-`".into());
    }
    let end = value_end(text, value).ok_or("cannot find its end")?;
    let (after, _) = line_after(text, end);
    Ok(Edit {
        start: line_start,
        end: after,
        text: String::new(),
        seq: 0,
    })
}

/// The offset just past a value's text (the last line of a block collection).
fn value_end(text: &str, node: &Node) -> Option<usize> {
    match (&node.value, node.style) {
        (Val::Scalar(_), Style::Plain | Style::Quoted) => {
            scalar_end(text, node.start as usize, node.style, false)
        }
        (Val::Scalar(_), Style::Block) => block_scalar_end(text, node.start as usize),
        (_, Style::Flow) => Some(node.end as usize),
        (_, _) => block_end(text, node),
    }
}

/// The end of a block collection: the end of its last descendant.
fn block_end(text: &str, node: &Node) -> Option<usize> {
    match &node.value {
        Val::Map(m) => value_end(text, &m.last()?.value),
        Val::Seq(items) => value_end(text, items.last()?),
        Val::Scalar(_) => value_end(text, node),
    }
}

/// The end of a plain or quoted scalar starting at `start`.
fn scalar_end(text: &str, start: usize, style: Style, flow: bool) -> Option<usize> {
    let b = text.as_bytes();
    match (style, b.get(start)?) {
        (Style::Quoted, b'"') => {
            let mut i = start + 1;
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 2,
                    b'"' => return Some(i + 1),
                    _ => i += 1,
                }
            }
            None
        }
        (Style::Quoted, b'\'') => {
            let mut i = start + 1;
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return Some(i + 1);
                }
                i += 1;
            }
            None
        }
        (Style::Plain, _) => {
            let line_end = text[start..]
                .find(['\n', '\r'])
                .map_or(text.len(), |i| start + i);
            let mut end = line_end;
            if let Some(i) = text[start..line_end].find(" #") {
                end = start + i;
            }
            if flow {
                if let Some(i) = text[start..end].find([',', ']', '}']) {
                    end = start + i;
                }
            }
            let end = start + text[start..end].trim_end().len();
            // A plain scalar continued on the next line is not edited in place.
            let next = text[line_end..].trim_start_matches(['\r', '\n']);
            let next_indent = next.len() - next.trim_start_matches(' ').len();
            let own_indent = column(text, start);
            let continues = !flow
                && !next.is_empty()
                && next_indent > own_indent.saturating_sub(1)
                && !next.trim_start().starts_with(['-', '#'])
                && !next.trim_start().contains(": ")
                && !next.trim_end().ends_with(':');
            (!continues).then_some(end)
        }
        _ => None,
    }
}

/// The end of a `|`/`>` block scalar whose indicator starts at `start`: the last line indented
/// more than the line holding the indicator.
fn block_scalar_end(text: &str, start: usize) -> Option<usize> {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let own = text[line_start..].len() - text[line_start..].trim_start_matches(' ').len();
    let mut end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let mut at = end;
    while at < text.len() {
        let line_begin = at + 1;
        let line_end = text[line_begin..]
            .find('\n')
            .map_or(text.len(), |i| line_begin + i);
        let line = &text[line_begin..line_end];
        if line.trim().is_empty() {
            at = line_end;
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent <= own {
            break;
        }
        end = line_end;
        at = line_end;
    }
    Some(end)
}

/// The offset after the line holding `end` (where a new line goes), and the newline to write
/// first when the text does not end with one.
fn line_after(text: &str, end: usize) -> (usize, &'static str) {
    match text[end..].find('\n') {
        Some(i) => (end + i + 1, ""),
        None => (text.len(), "\n"),
    }
}

/// The 0-based column (in characters) of a byte offset.
fn column(text: &str, at: usize) -> usize {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..at].chars().count()
}

/// The offset of the `-` of the block sequence item starting at `item`.
fn dash_before(text: &str, item: usize) -> Option<usize> {
    let before = &text[..item];
    let trimmed = before.trim_end_matches([' ', '\n', '\r']);
    trimmed.ends_with('-').then(|| trimmed.len() - 1)
}

/// The offset after the `:` that ends the key starting at `key_start`.
fn after_colon(text: &str, key_start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = key_start;
    match b.get(i)? {
        b'"' => i = scalar_end(text, i, Style::Quoted, false)?,
        b'\'' => i = scalar_end(text, i, Style::Quoted, false)?,
        _ => {}
    }
    while i < b.len() {
        if b[i] == b':' && matches!(b.get(i + 1), None | Some(b' ' | b'\n' | b'\r' | b'\t')) {
            return Some(i + 1);
        }
        if b[i] == b'\n' {
            return None;
        }
        i += 1;
    }
    None
}

/// A value on one line: JSON, which YAML reads the same way (strings are always quoted).
fn inline(value: &Value, _flow: bool) -> String {
    match value {
        Value::String(s) if !_flow => block_scalar(s),
        v => serde_json::to_string(v).unwrap_or_default(),
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A string as a block-context scalar: plain when kubectl reads it back as the same string,
/// quoted otherwise (`"n"`, `"yes"`, `"0755"`, `"1e3"`, anything with YAML syntax in it).
fn block_scalar(s: &str) -> String {
    let safe_chars = s.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'/' | b'-' | b'_' | b'@' | b':' | b'=' | b'+')
    });
    let first_ok = s
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'_');
    let plain_ok = safe_chars
        && first_ok
        && !s.ends_with(':')
        && !s.contains(": ")
        && resolve::plain(s) == Scalar::Str(s.to_owned());
    if plain_ok {
        s.to_owned()
    } else {
        json_string(s)
    }
}

fn block_key(k: &str) -> String {
    block_scalar(k)
}

/// Writes ` value\n` or a nested block after `key:` at `indent`.
fn block_value(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            block_map(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            block_seq(out, a, indent);
        }
        v => {
            out.push(' ');
            out.push_str(&inline(v, false));
            out.push('\n');
        }
    }
}

fn block_map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    let pad = " ".repeat(indent);
    for (k, v) in m {
        out.push_str(&pad);
        out.push_str(&block_key(k));
        out.push(':');
        block_value(out, v, indent);
    }
}

fn block_seq(out: &mut String, a: &[Value], indent: usize) {
    let pad = " ".repeat(indent);
    for v in a {
        out.push_str(&pad);
        out.push('-');
        block_item(out, v, indent);
    }
}

/// Writes the rest of a `-` item line (and following lines) at `indent` (the `-` column).
fn block_item(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            let pad = " ".repeat(indent + 2);
            for (i, (k, v)) in m.iter().enumerate() {
                if i == 0 {
                    out.push(' ');
                } else {
                    out.push_str(&pad);
                }
                out.push_str(&block_key(k));
                out.push(':');
                block_value(out, v, indent + 2);
            }
        }
        v => {
            out.push(' ');
            let s = match v {
                Value::String(s) => block_scalar(s),
                other => serde_json::to_string(other).unwrap_or_default(),
            };
            out.push_str(&s);
            out.push('\n');
        }
    }
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

    #[test]
    fn edits_keep_comments_quotes_and_order() {
        let policy = Policy::from_slice(b"{}").unwrap();
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"n\"  # quoted on purpose\n  labels:\n    enabled: \"yes\"\n    mode: \"0755\"\nspec:\n  containers:\n  - name: c\n    image: nginx # untagged\n";
        let report = check(&policy, None, text.as_bytes(), &Context::default());
        let fixed = apply(text, &report).unwrap();
        assert!(fixed.changed);
        // Every original line is still there, byte for byte.
        for line in text.lines() {
            assert!(
                fixed.text.contains(line),
                "lost {line:?} in\n{}",
                fixed.text
            );
        }
        let back = crate::model::kubectl_yaml::parse_documents(&fixed.text, 0)
            .remove(0)
            .unwrap();
        assert_eq!(back["metadata"]["name"], "n");
        assert_eq!(back["metadata"]["labels"]["enabled"], "yes");
        assert_eq!(back["metadata"]["labels"]["mode"], "0755");
    }

    #[test]
    fn scalars_are_quoted_when_kubectl_would_misread_them() {
        for s in [
            "n", "yes", "0755", "1e3", "~", "", "a: b", "-x", "#c", "true",
        ] {
            assert!(block_scalar(s).starts_with('"'), "{s}");
        }
        for s in [
            "nginx",
            "node.coreweave.cloud/reserved",
            "a@sha256:0f",
            "NoSchedule",
        ] {
            assert_eq!(block_scalar(s), s);
        }
    }

    #[test]
    fn json_text_gets_json_edits() {
        let policy = Policy::from_slice(b"{}").unwrap();
        let text = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n \"metadata\": {\"name\": \"p\"},\n \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"nginx\"}]}}\n";
        let report = check(&policy, None, text.as_bytes(), &Context::default());
        let fixed = apply(text, &report).unwrap();
        assert!(fixed.changed);
        assert!(fixed
            .text
            .starts_with("{\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n"));
        let _: Value = serde_json::from_str(&fixed.text).unwrap();
    }
}
