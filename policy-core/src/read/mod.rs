//! The text pipeline: bytes → documents → objects → judged results, in one pass.
//!
//! Text is split into documents as kubectl splits it; each YAML document becomes a [`Node`]
//! tree as kubectl would build it (YAML 1.1 scalars, merge keys, last-wins duplicates) and is
//! written once as JSON for the one typed serde_json reader. JSON text is read typed directly
//! unless a first cheap scan finds duplicate keys or a list. Findings get their line from the
//! tree, or from one pass over the JSON text: never by parsing again per finding.

#[cfg(feature = "fast-yaml")]
mod block;
pub(crate) mod bytes;
pub(crate) mod json;
pub(crate) mod locate;
pub(crate) mod resolve;
pub(crate) mod tree;
#[cfg(feature = "yaml")]
pub(crate) mod yaml;

use crate::eval::{evaluate, Context};
use crate::input::{self, Problem};
use crate::object::{self, Doc, Judgement, Object, Operation, Request};
use crate::pointer;
use crate::policy::Policy;
use crate::rules::RuleId;
use crate::verdict::{DocumentResult, Finding, Report, Severity, Verdict};

use tree::{Lines, Node, Val};

/// A key written twice in one mapping: byte offsets of both keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Duplicate {
    /// The first key.
    pub first: u32,
    /// The key whose value is kept.
    pub second: u32,
}

/// Why a document could not be read, at a byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub offset: u32,
}

/// One object to judge, found in a document.
struct Unit {
    /// Pointer prefix from the document root to the judged object (`/items/3`).
    prefix: String,
    /// Extra prefix used only to find lines (`/request/object` in an AdmissionReview).
    locate_prefix: &'static str,
    judged: Result<Request, Problem>,
    /// Problems that do not stop judging (duplicate keys).
    notes: Vec<Problem>,
}

impl Unit {
    fn bad(p: Problem) -> Unit {
        Unit {
            prefix: String::new(),
            locate_prefix: "",
            judged: Err(p),
            notes: Vec::new(),
        }
    }
}

/// Where a document's findings find their lines.
enum Where<'a> {
    /// The document's tree.
    Tree(&'a Node),
    /// JSON text: lines are found afterwards, in the same pass that looks for duplicates.
    Deferred,
    /// No text (a caller's value).
    Nowhere,
}

/// The input being judged and what every result shares.
struct Batch<'a> {
    policy: &'a Policy,
    context: &'a Context,
    existing: bool,
    text: &'a str,
    lines: Lines,
    results: Vec<DocumentResult>,
}

/// The request a manifest object is judged as: existing cluster state when `existing` says so
/// (`audit`) or when it carries `metadata.resourceVersion` (read back from a cluster, as
/// `kubectl get -o yaml` prints it), else a CREATE.
fn manifest_request(o: Object, existing: bool) -> Request {
    let mut r = if existing || o.metadata.resource_version.is_some() {
        Request::existing(o)
    } else {
        Request::create(o)
    };
    r.origin = object::Origin::Manifest;
    r
}

fn units(doc: Result<Doc, Problem>, existing: bool) -> Vec<Unit> {
    match doc {
        Err(p) => vec![Unit::bad(p)],
        Ok(Doc::Object(o)) => vec![Unit {
            prefix: String::new(),
            locate_prefix: "",
            judged: Ok(manifest_request(*o, existing)),
            notes: Vec::new(),
        }],
        Ok(Doc::List(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, o)| Unit {
                prefix: format!("/items/{i}"),
                locate_prefix: "",
                judged: Ok(manifest_request(o, existing)),
                notes: Vec::new(),
            })
            .collect(),
        Ok(doc @ (Doc::Review(_) | Doc::Request(_))) => {
            let enveloped = matches!(doc, Doc::Review(_));
            let (Doc::Review(r) | Doc::Request(r)) = doc else {
                return Vec::new();
            };
            let locate_prefix = match (enveloped, r.operation == Operation::Delete) {
                (true, true) => "/request/oldObject",
                (true, false) => "/request/object",
                (false, true) => "/oldObject",
                (false, false) => "/object",
            };
            vec![Unit {
                prefix: String::new(),
                locate_prefix,
                judged: Ok(*r),
                notes: Vec::new(),
            }]
        }
    }
}

pub(crate) fn input_invalid(problem: &Problem) -> Finding {
    let mut message = problem.message.clone();
    if let (Some(l), Some(c)) = (problem.line, problem.column) {
        message.push_str(&format!(" (line {l}, column {c})"));
    }
    Finding {
        rule: RuleId::InputInvalid,
        severity: Severity::Error,
        path: problem.path.clone(),
        message,
        fix: None,
        line: problem.line,
        preexisting: false,
        suppressed: None,
    }
}

fn prefix_paths(v: &mut Verdict, prefix: &str) {
    if prefix.is_empty() {
        return;
    }
    for f in &mut v.findings {
        f.path.insert_str(0, prefix);
    }
    for p in &mut v.patch {
        p.path.insert_str(0, prefix);
    }
}

impl<'a> Batch<'a> {
    fn new(
        policy: &'a Policy,
        context: &'a Context,
        existing: bool,
        text: &'a str,
        bytes: &[u8],
    ) -> Self {
        Batch {
            policy,
            context,
            existing,
            text,
            lines: Lines::new(bytes),
            results: Vec::new(),
        }
    }

    fn problem_at(&self, message: String, offset: u32) -> Problem {
        let (line, column) = self.lines.line_col(self.text, offset);
        Problem {
            message,
            path: String::new(),
            line: Some(line),
            column: Some(column),
        }
    }

    fn bad(&mut self, document: usize, p: Problem, origin: &Origin<'_>) {
        self.judge(document, vec![Unit::bad(p)], &Where::Nowhere, origin);
    }

    /// Judges the units of one document and records their results.
    fn judge(&mut self, document: usize, units: Vec<Unit>, at: &Where<'_>, origin: &Origin<'_>) {
        for u in units {
            let mut existing = false;
            let (kind, namespace, name, mut verdict) = match &u.judged {
                Err(p) => (
                    None,
                    None,
                    None,
                    Verdict {
                        allowed: false,
                        findings: vec![input_invalid(p)],
                        patch: vec![],
                    },
                ),
                Ok(req) => {
                    existing = req.judged_as() == Judgement::Audit;
                    let obj = req.object.as_ref().or(req.old_object.as_ref());
                    let v = evaluate(self.policy, req, self.context);
                    (
                        obj.map(|o| o.kind.clone()),
                        obj.and_then(|o| o.namespace().map(str::to_owned))
                            .or_else(|| req.namespace.clone()),
                        obj.and_then(|o| o.name().map(str::to_owned))
                            .or_else(|| req.name.clone()),
                        v,
                    )
                }
            };
            prefix_paths(&mut verdict, &u.prefix);
            if !u.notes.is_empty() {
                verdict.allowed = false;
                let notes: Vec<Finding> = u.notes.iter().map(input_invalid).collect();
                verdict.findings.splice(0..0, notes);
            }
            self.locate(&mut verdict, at, u.locate_prefix);
            if origin.first_line > 0 {
                for f in &mut verdict.findings {
                    f.line = f.line.map(|l| l.saturating_sub(origin.first_line));
                }
            }
            self.results.push(DocumentResult {
                source: origin.source.map(str::to_owned),
                document,
                kind,
                namespace,
                name,
                allowed: verdict.allowed,
                findings: verdict.findings,
                patch: verdict.patch,
                existing,
            });
        }
    }

    /// Gives every finding without a line the line of its field.
    fn locate(&self, v: &mut Verdict, at: &Where<'_>, locate_prefix: &str) {
        let wanted: Vec<(usize, Vec<String>)> = v
            .findings
            .iter()
            .enumerate()
            .filter(|(_, f)| f.line.is_none())
            .filter_map(|(i, f)| {
                pointer::tokens(&format!("{locate_prefix}{}", f.path)).map(|t| (i, t))
            })
            .collect();
        if wanted.is_empty() {
            return;
        }
        match at {
            Where::Nowhere => {}
            Where::Tree(root) => {
                let (indices, pointers): (Vec<usize>, Vec<Vec<String>>) =
                    wanted.into_iter().unzip();
                let (offsets, _) = locate::locate_all(root, &pointers);
                for (i, offset) in indices.into_iter().zip(offsets) {
                    v.findings[i].line = Some(self.lines.line(offset));
                }
            }
            Where::Deferred => {}
        }
    }

    /// Judges one document read into a tree: a list item by item, else the whole.
    fn judge_tree(
        &mut self,
        document: usize,
        root: &Node,
        dups: &[Duplicate],
        origin: &Origin<'_>,
    ) {
        let mut units = match list_items(self.policy, root) {
            Some(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let judged = match self.typed(item) {
                        Ok(Doc::Object(o)) => Ok(manifest_request(*o, self.existing)),
                        Ok(_) => Err(Problem::new(
                            "a list item must be a single Kubernetes object",
                        )),
                        Err(p) => Err(p),
                    };
                    Unit {
                        prefix: format!("/items/{i}"),
                        locate_prefix: "",
                        judged,
                        notes: Vec::new(),
                    }
                })
                .collect(),
            None => units(self.typed(root), self.existing),
        };
        for d in dups {
            let Some(path) = path_of_key(root, d.second) else {
                continue;
            };
            let (first, first_column) = self.lines.line_col(self.text, d.first);
            let (second, column) = self.lines.line_col(self.text, d.second);
            let place = if first == second {
                format!("line {first}, columns {first_column} and {column}")
            } else {
                format!("lines {first} and {second}")
            };
            let p = Problem {
                message: format!(
                    "`{path}` is set twice ({place}); kubectl keeps the last value and strict decoding refuses the object: remove one"
                ),
                path: path.clone(),
                line: Some(second),
                column: Some(column),
            };
            let unit = units
                .iter_mut()
                .find(|u| !u.prefix.is_empty() && path.starts_with(&format!("{}/", u.prefix)))
                .or(None);
            match unit {
                Some(u) => {
                    let mut p = p;
                    p.path = path[u.prefix.len()..].to_owned();
                    u.notes.push(p);
                }
                None => {
                    if let Some(u) = units.first_mut() {
                        u.notes.push(p);
                    }
                }
            }
        }
        self.judge(document, units, &Where::Tree(root), origin);
    }

    /// The typed read of a tree node; problems name paths relative to it.
    fn typed(&self, node: &Node) -> Result<Doc, Problem> {
        let limit = self.policy.settings().limits.max_depth;
        if node.height() > limit {
            return Err(input::depth_problem(limit));
        }
        if !matches!(node.value, Val::Map(_)) {
            return Err(input::not_an_object(&node.to_value()));
        }
        let mut bytes = Vec::with_capacity(256);
        if let Err(offset) = node.write_json(&mut bytes) {
            return Err(self.problem_at(
                String::from(
                    "kubectl cannot send `.nan` or `.inf` to the API server: JSON has no such numbers; quote the value",
                ),
                offset,
            ));
        }
        input::typed_read(self.policy, &bytes).map_err(|mut p| {
            if let Some(tokens) = pointer::tokens(&p.path) {
                if let Some(n) = node.at(&tokens) {
                    if let Some(better) = unquoted_message(self.text, n, &p) {
                        p.message = better;
                    }
                    let (line, column) = self.lines.line_col(self.text, n.start);
                    p.line = Some(line);
                    p.column = Some(column);
                }
            }
            p
        })
    }
}

/// A field where Kubernetes wants a string but kubectl read an unquoted bool or number: the
/// message names what was written.
fn unquoted_message(text: &str, n: &Node, p: &Problem) -> Option<String> {
    if n.style != tree::Style::Plain || !p.message.contains("must be a string") {
        return None;
    }
    let written = plain_text(text, n.start as usize)?;
    let read_as = match &n.value {
        Val::Scalar(resolve::Scalar::Bool(b)) => format!("the boolean {b}"),
        Val::Scalar(resolve::Scalar::Int(i)) => format!("the number {i}"),
        Val::Scalar(resolve::Scalar::Uint(u)) => format!("the number {u}"),
        Val::Scalar(resolve::Scalar::Float(f)) => format!("the number {}", resolve::json_float(*f)),
        Val::Scalar(resolve::Scalar::Null) => String::from("null"),
        _ => return None,
    };
    Some(format!(
        "`{}` must be a string, but kubectl reads the unquoted `{written}` as {read_as}; quote it: \"{written}\"",
        p.path
    ))
}

/// The text of a plain scalar starting at `start` (for messages).
fn plain_text(text: &str, start: usize) -> Option<&str> {
    let rest = text.get(start..)?;
    let mut end = rest.find(['\n', '\r']).unwrap_or(rest.len());
    if let Some(i) = rest[..end].find(" #") {
        end = i;
    }
    for (i, c) in rest[..end].char_indices() {
        if matches!(c, ',' | ']' | '}') {
            end = i;
            break;
        }
    }
    Some(rest[..end].trim_end())
}

/// The items of a list document: its kind ends in `List` and it has an `items` array (as
/// apimachinery's `meta.IsListType` decides), unless settings declare that kind.
fn list_items<'n>(policy: &Policy, root: &'n Node) -> Option<&'n [Node]> {
    let kind = root.get("kind")?.as_str()?;
    if !object::is_list(Some(kind)) {
        return None;
    }
    if let Some(av) = root.get("apiVersion").and_then(Node::as_str) {
        if policy.shapes.get(av, kind).is_some() {
            return None;
        }
    }
    match &root.get("items")?.value {
        Val::Seq(items) => Some(items),
        _ => None,
    }
}

/// The JSON Pointer of the member whose key starts at `offset`.
fn path_of_key(root: &Node, offset: u32) -> Option<String> {
    fn go(n: &Node, offset: u32, path: &mut String) -> bool {
        match &n.value {
            Val::Map(m) => m.iter().any(|e| {
                let len = path.len();
                pointer::push(path, &e.key);
                if e.key_start == offset && !e.value.copied || go(&e.value, offset, path) {
                    return true;
                }
                path.truncate(len);
                false
            }),
            Val::Seq(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                if go(item, offset, path) {
                    return true;
                }
                path.truncate(len);
                false
            }),
            Val::Scalar(_) => false,
        }
    }
    let mut path = String::new();
    go(root, offset, &mut path).then_some(path)
}

/// Where a document's results say they come from.
struct Origin<'a> {
    source: Option<&'a str>,
    /// The line of a `# Source:` comment the document's lines count from; 0 for none.
    first_line: u32,
}

/// The path a `helm template` document names in its `# Source: <path>` comment, and the line
/// of that comment.
#[cfg(feature = "yaml")]
fn helm_source(chunk: &str) -> Option<(&str, usize)> {
    for (i, line) in chunk.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        return t
            .strip_prefix("# Source: ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| (s, i));
    }
    None
}

/// Judges manifest bytes; see [`crate::check`] and [`crate::audit`].
pub(crate) fn check_as(
    policy: &Policy,
    source: Option<&str>,
    bytes: &[u8],
    context: &Context,
    existing: bool,
) -> Report {
    let limits = policy.settings().limits;
    let origin = Origin {
        source,
        first_line: 0,
    };
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.len() > limits.max_bytes {
        let mut batch = Batch::new(policy, context, existing, "", b"");
        batch.bad(
            0,
            Problem::new(format!(
                "input is {} bytes, above the limit of {} (`limits.maxBytes`)",
                bytes.len(),
                limits.max_bytes
            )),
            &origin,
        );
        return Report::new(batch.results);
    }
    let (text, invalid) = sanitize(bytes);
    let mut batch = Batch::new(policy, context, existing, &text, bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') || !cfg!(feature = "yaml") {
        match invalid.first() {
            Some(&at) => {
                let p = batch.problem_at(utf8_message(bytes, at), at as u32);
                batch.bad(0, p, &origin);
            }
            None => judge_json(&mut batch, &origin),
        }
        return Report::new(batch.results);
    }
    #[cfg(feature = "yaml")]
    judge_yaml(&mut batch, bytes, &invalid, &origin);
    Report::new(batch.results)
}

/// The input as text of the same length: each byte of an invalid UTF-8 sequence becomes `?`,
/// so offsets keep their meaning. Also returns where each invalid sequence starts.
fn sanitize(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, Vec<usize>) {
    use std::borrow::Cow;
    if let Ok(t) = std::str::from_utf8(bytes) {
        return (Cow::Borrowed(t), Vec::new());
    }
    let mut owned = bytes.to_vec();
    let mut invalid = Vec::new();
    let mut i = 0;
    while i < owned.len() {
        match std::str::from_utf8(&owned[i..]) {
            Ok(_) => break,
            Err(e) => {
                let at = i + e.valid_up_to();
                let len = e.error_len().unwrap_or(owned.len() - at);
                invalid.push(at);
                for b in &mut owned[at..at + len] {
                    *b = b'?';
                }
                i = at + len;
            }
        }
    }
    let text = String::from_utf8(owned).unwrap_or_default();
    (Cow::Owned(text), invalid)
}

fn utf8_message(bytes: &[u8], at: usize) -> String {
    format!(
        "not UTF-8 text: the byte 0x{:02x} cannot start or continue a character here; save the file as UTF-8",
        bytes.get(at).copied().unwrap_or(0)
    )
}

/// JSON text: read typed and judged at once; then one pass finds duplicate keys, a list and the
/// findings' lines together. Only when it finds duplicates or a list (rare) is the text read
/// into a tree and judged again from it.
fn judge_json(batch: &mut Batch<'_>, origin: &Origin<'_>) {
    let policy = batch.policy;
    let text = batch.text;
    let limits = policy.settings().limits;
    // serde_json refuses nesting deeper than 128 by itself; a lower limit is checked first.
    if limits.max_depth < 128 && input::json_depth_exceeds(text.as_bytes(), limits.max_depth) {
        batch.bad(0, input::depth_problem(limits.max_depth), origin);
        return;
    }
    let first = batch.results.len();
    let doc = input::json_doc(policy, text.as_bytes());
    let units = units(doc, batch.existing);
    let prefixes: Vec<&'static str> = units.iter().map(|u| u.locate_prefix).collect();
    batch.judge(0, units, &Where::Deferred, origin);
    // The findings still without a line, as (result, finding, pointer tokens).
    let mut wanted: Vec<(usize, usize)> = Vec::new();
    let mut pointers: Vec<Vec<std::borrow::Cow<'_, str>>> = Vec::new();
    for (r, prefix) in (first..batch.results.len()).zip(&prefixes) {
        for (i, f) in batch.results[r].findings.iter().enumerate() {
            if f.line.is_none() {
                let mut t = Vec::with_capacity(16);
                if pointer::push_tokens(prefix, &mut t) && pointer::push_tokens(&f.path, &mut t) {
                    wanted.push((r, i));
                    pointers.push(t);
                }
            }
        }
    }
    let (scan, offsets) = json::scan_locate(text.as_bytes(), limits.max_depth, &pointers);
    if !scan.invalid && (scan.duplicates || scan.list) {
        batch.results.truncate(first);
        match json::read(text, 0) {
            Ok((root, dups)) => batch.judge_tree(0, &root, &dups, origin),
            Err(e) => {
                let p = batch.problem_at(e.message, e.offset);
                batch.bad(0, p, origin);
            }
        }
        return;
    }
    for ((r, i), offset) in wanted.into_iter().zip(offsets) {
        batch.results[r].findings[i].line = Some(batch.lines.line(offset));
    }
}

#[cfg(feature = "yaml")]
fn judge_yaml(batch: &mut Batch<'_>, bytes: &[u8], invalid: &[usize], whole: &Origin<'_>) {
    let budget = yaml::Budget::from(&batch.policy.settings().limits);
    let text = batch.text;
    let mut document = 0usize;
    for chunk in input::split_documents(text) {
        let start = chunk.start;
        let end = start + chunk.text.len();
        if input::is_blank(chunk.text) {
            continue;
        }
        let origin = match helm_source(chunk.text) {
            Some((path, line)) => Origin {
                source: Some(path),
                first_line: batch.lines.line(start as u32) + line as u32,
            },
            None => Origin {
                source: whole.source,
                first_line: 0,
            },
        };
        if let Some(&at) = invalid.iter().find(|&&i| (start..end).contains(&i)) {
            let mut p = batch.problem_at(utf8_message(bytes, at), at as u32);
            p.line = p.line.map(|l| l.saturating_sub(origin.first_line));
            batch.bad(document, p, &origin);
            document += 1;
            continue;
        }
        for d in yaml::read(chunk.text, start as u32, budget) {
            match d {
                Ok(doc) => {
                    if matches!(doc.root.value, Val::Scalar(resolve::Scalar::Null)) {
                        continue;
                    }
                    batch.judge_tree(document, &doc.root, &doc.duplicates, &origin);
                }
                Err(e) => {
                    let mut p = batch.problem_at(e.message, e.offset);
                    p.line = p.line.map(|l| l.saturating_sub(origin.first_line));
                    batch.bad(document, p, &origin);
                }
            }
            document += 1;
        }
    }
}

/// Judges a parsed manifest or AdmissionReview value; see [`crate::evaluate_value`].
pub(crate) fn evaluate_value(
    policy: &Policy,
    value: &serde_json::Value,
    context: &Context,
) -> Report {
    let mut batch = Batch::new(policy, context, false, "", b"");
    let origin = Origin {
        source: None,
        first_line: 0,
    };
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    match json::read(std::str::from_utf8(&bytes).unwrap_or(""), 0) {
        Ok((root, _)) if list_items(policy, &root).is_some() => {
            batch.judge_tree(0, &root, &[], &origin);
            // A caller's value has no lines.
            for r in &mut batch.results {
                for f in &mut r.findings {
                    f.line = None;
                }
            }
        }
        _ => {
            let units = units(input::value_doc(policy, value), false);
            batch.judge(0, units, &Where::Nowhere, &origin);
        }
    }
    Report::new(batch.results)
}
