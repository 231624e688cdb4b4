//! The text pipeline: bytes → documents → objects → judged results, in one pass.
//!
//! Text is split into documents as kubectl splits it; each YAML document becomes a [`Node`]
//! tree as kubectl would build it (YAML 1.1 scalars, merge keys, last-wins duplicates) and is
//! written once as JSON for the one typed serde_json reader. JSON text is read typed directly
//! unless a first cheap scan finds duplicate keys or a list. Findings get their line from the
//! tree, or from one pass over the JSON text: never by parsing again per finding.

use crate::judge::eval::{evaluate, Context};
use crate::judge::verdict::{DocumentResult, Finding, Origin as ResultOrigin, Report, Verdict};
use crate::model::catalogue::RuleId;
use crate::model::input::{self, Problem};
use crate::model::object::{self, Doc, Judgement, Object, Operation, Request};
use crate::read::pointer;
use crate::settings::policy::Policy;

use crate::read::tree::{Lines, Node, Val};
#[cfg(feature = "yaml")]
use crate::read::yaml;
use crate::read::{json, locate, resolve, tree, Duplicate};

/// What a unit holds to judge.
enum Judged {
    /// A request (a manifest object is judged as a CREATE or as existing state).
    Request(Box<Request>),
    /// A document that could not be read.
    Bad(Problem),
    /// The outer object of a document kubectl reads as a list although its kind is not a
    /// `…List`: never created itself, reported with one `read-as-list` finding.
    ListHeader {
        kind: Option<String>,
        namespace: Option<String>,
        name: Option<String>,
        finding: Finding,
    },
}

/// One object to judge, found in a document.
struct Unit {
    /// Pointer prefix from the document root to the judged object (`/items/3`).
    prefix: String,
    /// Extra prefix used only to find lines (`/request/object` in an AdmissionReview).
    locate_prefix: &'static str,
    judged: Judged,
    /// Problems that do not stop judging (duplicate keys).
    notes: Vec<Problem>,
    /// The document could not be read because it is not a Kubernetes manifest at all (see
    /// [`DocumentResult::is_not_a_manifest`]).
    not_a_manifest: bool,
}

impl Unit {
    fn bad(p: Problem) -> Unit {
        Unit {
            prefix: String::new(),
            locate_prefix: "",
            judged: Judged::Bad(p),
            notes: Vec::new(),
            not_a_manifest: false,
        }
    }

    fn request(prefix: String, r: Result<Request, Problem>) -> Unit {
        Unit {
            prefix,
            locate_prefix: "",
            judged: match r {
                Ok(r) => Judged::Request(Box::new(r)),
                Err(p) => Judged::Bad(p),
            },
            notes: Vec::new(),
            not_a_manifest: false,
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
    /// With [`check_objects`]: the manifest object behind each result, in step with `results`.
    objects: Option<Vec<Option<Object>>>,
}

/// The request a manifest object is judged as: existing cluster state when `existing` says so
/// (`audit`) or when it carries a server-set `metadata.resourceVersion` (read back from a
/// cluster, as `kubectl get -o yaml` prints it; then `server-set-metadata` says so), else a
/// CREATE.
fn manifest_request(o: Object, existing: bool) -> Request {
    let read_back = !existing && server_set(o.metadata.resource_version.as_deref());
    let mut r = if existing || read_back {
        Request::existing(o)
    } else {
        Request::create(o)
    };
    r.origin = if read_back {
        object::Origin::ReadBack
    } else {
        object::Origin::Manifest
    };
    r
}

/// Whether a `resourceVersion` is one the API server sets: a non-zero number, as etcd
/// revisions are. The API server creates an object whose `resourceVersion` is empty or `0`
/// like any other (the etcd3 store's `Create` refuses only a non-zero version with
/// `ErrResourceVersionSetOnCreate`), so such a manifest, or one whose version is not a
/// number at all, is judged as the CREATE it would be.
fn server_set(resource_version: Option<&str>) -> bool {
    resource_version
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|v| v != 0)
}

fn units(doc: Result<Doc, Problem>, existing: bool) -> Vec<Unit> {
    match doc {
        Err(p) => vec![Unit::bad(p)],
        Ok(Doc::Object(o)) => vec![Unit::request(
            String::new(),
            Ok(manifest_request(*o, existing)),
        )],
        Ok(Doc::List(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, o)| Unit::request(format!("/items/{i}"), Ok(manifest_request(o, existing))))
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
                judged: Judged::Request(r),
                notes: Vec::new(),
                not_a_manifest: false,
            }]
        }
    }
}

pub(crate) fn input_invalid(problem: &Problem) -> Finding {
    let mut message = problem.message.clone();
    if let (Some(l), Some(c)) = (problem.line, problem.column) {
        message.push_str(&format!(" (line {l}, column {c})"));
    }
    Finding::input_invalid(problem.path.clone(), message, problem.line)
}

fn prefix_paths(v: &mut Verdict, prefix: &str) {
    if prefix.is_empty() {
        return;
    }
    for f in v.findings_mut() {
        f.path_mut().insert_str(0, prefix);
    }
    for p in v.patch_mut() {
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
            objects: None,
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

    /// [`Batch::bad`] for a document that does not parse, marked as not a manifest when it is
    /// an unrendered template.
    #[cfg(feature = "yaml")]
    fn unparsed(&mut self, document: usize, p: Problem, origin: &Origin<'_>, text: &str) {
        let mut unit = Unit::bad(p);
        unit.not_a_manifest = is_unrendered_template(text);
        self.judge(document, vec![unit], &Where::Nowhere, origin);
    }

    /// Judges the units of one document and records their results.
    fn judge(&mut self, document: usize, units: Vec<Unit>, at: &Where<'_>, origin: &Origin<'_>) {
        for u in units {
            if let Some(objects) = &mut self.objects {
                // Only a manifest's object: an AdmissionReview's is not a manifest.
                let manifest = u.locate_prefix.is_empty();
                objects.push(match &u.judged {
                    Judged::Request(r) if manifest => r.object.clone(),
                    _ => None,
                });
            }
            let mut existing = false;
            let (kind, namespace, name, mut verdict) = match &u.judged {
                Judged::ListHeader {
                    kind,
                    namespace,
                    name,
                    finding,
                } => (
                    kind.clone(),
                    namespace.clone(),
                    name.clone(),
                    Verdict::new(vec![finding.clone()], vec![]),
                ),
                Judged::Bad(p) => (
                    None,
                    None,
                    None,
                    Verdict::new(vec![input_invalid(p)], vec![]),
                ),
                Judged::Request(req) => {
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
                let notes: Vec<Finding> = u.notes.iter().map(input_invalid).collect();
                verdict.add_findings(notes, true);
            }
            self.locate(&mut verdict, at, u.locate_prefix);
            if origin.first_line > 0 {
                for f in verdict.findings_mut() {
                    f.set_line(f.line().map(|l| l.saturating_sub(origin.first_line)));
                }
            }
            self.results.push(DocumentResult::new(
                ResultOrigin {
                    not_a_manifest: u.not_a_manifest && matches!(u.judged, Judged::Bad(_)),
                    source: origin.source.map(str::to_owned),
                    document,
                    kind,
                    namespace,
                    name,
                    existing,
                },
                verdict,
            ));
        }
    }

    /// Gives every finding without a line the line of its field.
    fn locate(&self, v: &mut Verdict, at: &Where<'_>, locate_prefix: &str) {
        let wanted: Vec<(usize, Vec<String>)> = v
            .findings()
            .iter()
            .enumerate()
            .filter(|(_, f)| f.line().is_none())
            .filter_map(|(i, f)| {
                pointer::tokens(&format!("{locate_prefix}{}", f.path())).map(|t| (i, t))
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
                    v.findings_mut()[i].set_line(Some(self.lines.line(offset)));
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
        let mut units = match list_items(root) {
            List::No => units(self.typed(root), self.existing),
            List::Invalid(p) => vec![Unit::bad(
                self.at_node(p, root.get("items").unwrap_or(root)),
            )],
            List::Items { items, inherit } => {
                let mut out = Vec::with_capacity(items.len() + 1);
                if let Some(header) = self.list_header(root, items.len()) {
                    out.push(header);
                }
                for (i, item) in items.iter().enumerate() {
                    let prefix = format!("/items/{i}");
                    let judged = if item
                        .get("items")
                        .is_some_and(|n| matches!(n.value, Val::Seq(_)))
                    {
                        Err(self.at_node(Problem::new(NESTED_LIST), item))
                    } else {
                        match self.typed_item(item, inherit) {
                            Ok(Doc::Object(o)) => Ok(manifest_request(*o, self.existing)),
                            Ok(_) => Err(Problem::new(
                                "a list item must be a single Kubernetes object",
                            )),
                            Err(p) => Err(p),
                        }
                    };
                    out.push(Unit::request(prefix, judged));
                }
                out
            }
        };
        if is_not_a_manifest(root) {
            for u in &mut units {
                u.not_a_manifest = true;
            }
        }
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
        input::typed_read(self.policy.reading(), &bytes).map_err(|mut p| {
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

impl Batch<'_> {
    /// A problem placed at `node`'s line and column.
    fn at_node(&self, mut p: Problem, node: &Node) -> Problem {
        let (line, column) = self.lines.line_col(self.text, node.start);
        p.line = Some(line);
        p.column = Some(column);
        p
    }

    /// The typed read of a list item; an item with neither `kind` nor `apiVersion` takes the
    /// list's, as apimachinery's `decodeToList` sets them.
    fn typed_item(&self, item: &Node, inherit: Option<Inherit<'_>>) -> Result<Doc, Problem> {
        let Some(inherit) = inherit.filter(|_| needs_inherit(item)) else {
            return self.typed(item);
        };
        let mut node = item.clone();
        if let Val::Map(members) = &mut node.value {
            members.retain(|m| m.key != "kind" && m.key != "apiVersion");
            let scalar = |s: &str| Node {
                start: item.start,
                end: 0,
                style: tree::Style::Quoted,
                copied: true,
                value: Val::Scalar(resolve::Scalar::Str(s.to_owned())),
            };
            if let Some(av) = inherit.api_version {
                members.push(tree::Member {
                    key: String::from("apiVersion"),
                    key_start: item.start,
                    value: scalar(av),
                });
            }
            members.push(tree::Member {
                key: String::from("kind"),
                key_start: item.start,
                value: scalar(inherit.kind),
            });
        }
        self.typed(&node)
    }

    /// The result of a document kubectl reads as a list although its kind is not a `…List`:
    /// the outer object with one `read-as-list` finding (none when that rule is off).
    fn list_header(&self, root: &Node, items: usize) -> Option<Unit> {
        let kind = root.get("kind").and_then(Node::as_str)?;
        if object::is_list(Some(kind)) {
            return None;
        }
        let state = self.policy.rules[RuleId::ReadAsList.index()];
        if !state.enabled {
            return None;
        }
        let meta = root.get("metadata");
        let field = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(Node::as_str)
                .map(str::to_owned)
        };
        let objects = match items {
            0 => String::from("nothing (its `items` is empty)"),
            1 => String::from("only its 1 item (judged below)"),
            n => format!("only its {n} items (judged below)"),
        };
        Some(Unit {
            prefix: String::new(),
            locate_prefix: "",
            judged: Judged::ListHeader {
                kind: Some(kind.to_owned()),
                namespace: field("namespace"),
                name: field("name"),
                finding: Finding::new(
                    RuleId::ReadAsList,
                    state.severity,
                    "/items",
                    format!(
                        "this `{kind}` has a top-level `items`, so kubectl reads the document as a list: it creates {objects}, never the `{kind}` itself; remove `items`, or write `kind: List` if a list is meant"
                    ),
                ),
            },
            notes: Vec::new(),
            not_a_manifest: false,
        })
    }
}

/// kubectl's error for a list inside a list (cli-runtime's `FlattenListVisitor` calls
/// `meta.ExtractList` on it, which fails for an `Unstructured`).
const NESTED_LIST: &str = "a list item with its own `items` array is a list inside a list, which kubectl refuses (\"is not a list: no Items field in this object\"); put its items in the outer list";

/// The list's `apiVersion` and item kind, for items that name neither.
#[derive(Clone, Copy)]
struct Inherit<'n> {
    api_version: Option<&'n str>,
    kind: &'n str,
}

/// What kubectl makes of a document's top level.
enum List<'n> {
    /// Not a list: no `items` member.
    No,
    /// A list: its items (none for `items: null`) and what items without a kind inherit.
    Items {
        items: &'n [Node],
        inherit: Option<Inherit<'n>>,
    },
    /// kubectl refuses it.
    Invalid(Problem),
}

/// A document is a list when its top level has an `items` member, whatever its kind: that is
/// how kubectl decides. apimachinery's unstructured JSON scheme (`unstructuredJSONScheme.decode`
/// in `pkg/apis/meta/v1/unstructured/helpers.go`) decodes any object whose `items` is present
/// and not absent (`null` included: a `json.RawMessage` receives it) with `decodeToList`, which
/// fails unless `items` is an array (or null) of objects; `Decode` then requires the list's
/// `kind`. cli-runtime's `FlattenListVisitor` (`pkg/resource/visitor.go`) creates only the
/// items. An item with neither `kind` nor `apiVersion` takes `kind` without its `List` suffix
/// and the list's `apiVersion`.
fn list_items(root: &Node) -> List<'_> {
    let Some(items) = root.get("items") else {
        return List::No;
    };
    let items: &[Node] = match &items.value {
        Val::Seq(items) => items,
        Val::Scalar(resolve::Scalar::Null) => &[],
        _ => {
            return List::Invalid(Problem::new(
                "`items` must be a list of objects: kubectl reads any document with a top-level `items` as a list (whatever its kind) and refuses this one",
            ))
        }
    };
    let kind = match root.get("kind").and_then(Node::as_str) {
        Some(k) if !k.is_empty() => k,
        _ => {
            return List::Invalid(Problem::new(
                "a document with a top-level `items` is a list to kubectl, and a list needs a string `kind` (`List`)",
            ))
        }
    };
    let inherit = Inherit {
        api_version: root
            .get("apiVersion")
            .and_then(Node::as_str)
            .filter(|v| !v.is_empty()),
        kind: kind.strip_suffix("List").unwrap_or(kind),
    };
    List::Items {
        items,
        inherit: Some(inherit),
    }
}

/// Whether a document is not a Kubernetes manifest at all: not a map, a map that names
/// neither `apiVersion` nor `kind` (a CI workflow, a Helm `values.yaml`, a pre-commit config),
/// or a Helm chart's `Chart.yaml` (see [`is_helm_chart_metadata`]). Such a document is still
/// `input-invalid` (kubectl refuses it: apimachinery `unstructuredJSONScheme.decode` fails with
/// `Object 'Kind' is missing`), and is marked so that a directory walk can skip it.
fn is_not_a_manifest(root: &Node) -> bool {
    !matches!(root.value, Val::Map(_)) || needs_inherit(root) || is_helm_chart_metadata(root)
}

/// Whether a map is a Helm chart's `Chart.yaml`: no `kind`, `apiVersion` `v1` or `v2` and the
/// `name` and `version` every chart must have (helm `pkg/chart/metadata.go`,
/// `Metadata.Validate`: "chart.metadata.name is required", "chart.metadata.version is
/// required", `APIVersionV1`/`APIVersionV2`). kubectl cannot create it either (no `kind`).
fn is_helm_chart_metadata(root: &Node) -> bool {
    let kind_empty = root
        .get("kind")
        .and_then(Node::as_str)
        .is_none_or(str::is_empty);
    kind_empty
        && matches!(
            root.get("apiVersion").and_then(Node::as_str),
            Some("v1" | "v2")
        )
        && root.get("name").is_some()
        && root.get("version").is_some()
}

/// Whether a YAML document that does not parse is a template that becomes YAML only when
/// rendered (Helm, Go `text/template`, Jinja: `{{ … }}` or `{% … %}`); kubectl cannot read it
/// either, so a directory walk skips it like any other document that is not a manifest.
fn is_unrendered_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// [`is_not_a_manifest`] for one JSON value that the typed read refused: read again only for
/// its `apiVersion` and `kind` (this happens only on the error path).
fn json_is_not_a_manifest(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Keys {
        #[serde(rename = "apiVersion")]
        api_version: Option<serde_json::Value>,
        kind: Option<serde_json::Value>,
    }
    if !text.trim_start().starts_with('{') {
        return true;
    }
    let empty = |v: Option<serde_json::Value>| {
        v.as_ref()
            .and_then(serde_json::Value::as_str)
            .is_none_or(str::is_empty)
    };
    serde_json::from_str::<Keys>(text).is_ok_and(|k| empty(k.api_version) && empty(k.kind))
}

/// Whether an item names neither `kind` nor `apiVersion` (as strings; apimachinery's
/// `GetKind` reads anything else as empty).
fn needs_inherit(item: &Node) -> bool {
    let empty = |k: &str| item.get(k).and_then(Node::as_str).is_none_or(str::is_empty);
    matches!(item.value, Val::Map(_)) && empty("kind") && empty("apiVersion")
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
    judge_text(policy, source, bytes, context, existing, false).0
}

/// [`crate::check`] that also returns the manifest object behind each result, in step with the
/// results; see [`crate::check_objects`].
pub(crate) fn check_objects(
    policy: &Policy,
    source: Option<&str>,
    bytes: &[u8],
    context: &Context,
) -> (Report, Vec<Option<Object>>) {
    judge_text(policy, source, bytes, context, false, true)
}

fn finish(mut batch: Batch<'_>) -> (Report, Vec<Option<Object>>) {
    for r in &mut batch.results {
        by_line(r.findings_mut());
    }
    (
        Report::new(batch.results),
        batch.objects.unwrap_or_default(),
    )
}

/// Orders a document's findings by line, as a reader goes through the file: stable, so
/// findings on one line keep their rule-table order, and findings without a line come last in
/// their own order.
fn by_line(findings: &mut [Finding]) {
    findings.sort_by_key(|f| f.line().map_or((1, 0), |l| (0, l)));
}

fn judge_text(
    policy: &Policy,
    source: Option<&str>,
    bytes: &[u8],
    context: &Context,
    existing: bool,
    keep: bool,
) -> (Report, Vec<Option<Object>>) {
    let limits = policy.settings().limits;
    let origin = Origin {
        source,
        first_line: 0,
    };
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.len() > limits.max_bytes {
        let mut batch = Batch::new(policy, context, existing, "", b"");
        batch.objects = keep.then(Vec::new);
        batch.bad(
            0,
            Problem::new(format!(
                "input is {} bytes, above the limit of {} (`limits.maxBytes`)",
                bytes.len(),
                limits.max_bytes
            )),
            &origin,
        );
        return finish(batch);
    }
    let (text, invalid) = sanitize(bytes);
    let mut batch = Batch::new(policy, context, existing, &text, bytes);
    batch.objects = keep.then(Vec::new);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') || !cfg!(feature = "yaml") {
        match invalid.first() {
            Some(&at) => {
                let p = batch.problem_at(utf8_message(bytes, at), at as u32);
                batch.bad(0, p, &origin);
            }
            None => judge_json(&mut batch, &origin),
        }
        return finish(batch);
    }
    #[cfg(feature = "yaml")]
    judge_yaml(&mut batch, bytes, &invalid, &origin, 0, 0);
    finish(batch)
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

/// JSON text as kubectl reads it (apimachinery `pkg/util/yaml/decoder.go`,
/// `YAMLOrJSONDecoder`: a stream whose first byte after whitespace is `{` is read by Go's
/// `json.Decoder`, one value after another, whitespace or nothing between them). A text that is
/// one value is judged by [`judge_json_value`] alone, with no other pass over it; only when that
/// read fails is the text split into a stream (see [`judge_json_stream`]).
fn judge_json(batch: &mut Batch<'_>, origin: &Origin<'_>) {
    let text = batch.text;
    let first = batch.results.len();
    if judge_json_value(batch, 0, 0, text, origin) {
        return;
    }
    let stream = json::stream(text);
    let Some(&(_, end)) = stream.values.first() else {
        return;
    };
    if text
        .get(end..)
        .unwrap_or("")
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .is_empty()
    {
        // One value and its own error: already judged.
        return;
    }
    batch.results.truncate(first);
    if let Some(objects) = &mut batch.objects {
        objects.truncate(first);
    }
    judge_json_stream(batch, &stream, origin);
}

/// Judges each value of a JSON stream as its own document, then what follows them as kubectl
/// does (`YAMLOrJSONDecoder.Decode`): after one value, the rest is a YAML stream, from the
/// first non-space character or after the first newline (`consumeWhitespace`); after two or
/// more, reading stops with an error.
fn judge_json_stream(batch: &mut Batch<'_>, stream: &json::Stream, origin: &Origin<'_>) {
    let text = batch.text;
    let mut document = 0;
    for &(start, end) in &stream.values {
        // `null` is skipped (cli-runtime `StreamVisitor.Visit`), as an empty YAML document is.
        let value = text.get(start..end).unwrap_or("");
        if value == "null" {
            continue;
        }
        judge_json_value(batch, document, start, value, origin);
        document += 1;
    }
    let Some((at, message)) = &stream.failed else {
        return;
    };
    #[cfg(feature = "yaml")]
    if let [(_, after)] = stream.values[..] {
        let mut rest = after;
        for c in text.get(after..).unwrap_or("").chars() {
            if !c.is_whitespace() {
                break;
            }
            rest += c.len_utf8();
            if c == '\n' {
                break;
            }
        }
        judge_yaml(batch, b"", &[], origin, rest, document);
        return;
    }
    let p = batch.problem_at(
        format!(
            "not valid JSON after {} JSON value(s), where kubectl stops reading the stream: {message}",
            stream.values.len()
        ),
        *at as u32,
    );
    batch.bad(document, p, origin);
}

/// One JSON value starting at byte `base`: read typed and judged at once; then one pass finds
/// duplicate keys, a list and the findings' lines together. Only when it finds duplicates or a
/// list (rare) is the text read into a tree and judged again from it. Returns whether the
/// typed read succeeded.
fn judge_json_value(
    batch: &mut Batch<'_>,
    document: usize,
    base: usize,
    text: &str,
    origin: &Origin<'_>,
) -> bool {
    let policy = batch.policy;
    let limits = policy.settings().limits;
    // Nesting is checked everywhere, fields the policy skips included, as the YAML reader does.
    if input::json_depth_exceeds(text.as_bytes(), limits.max_depth) {
        batch.bad(document, input::depth_problem(limits.max_depth), origin);
        return true;
    }
    let first = batch.results.len();
    let doc = input::json_doc_within_depth(policy.reading(), text.as_bytes());
    let read = doc.is_ok();
    let mut units = units(doc, batch.existing);
    if !read && (json_is_not_a_manifest(text) || is_unrendered_template(text)) {
        for u in &mut units {
            u.not_a_manifest = true;
        }
    }
    let prefixes: Vec<&'static str> = units.iter().map(|u| u.locate_prefix).collect();
    batch.judge(document, units, &Where::Deferred, origin);
    // The findings still without a line, as (result, finding, pointer tokens).
    let mut wanted: Vec<(usize, usize)> = Vec::new();
    let mut pointers: Vec<Vec<std::borrow::Cow<'_, str>>> = Vec::new();
    for (r, prefix) in (first..batch.results.len()).zip(&prefixes) {
        for (i, f) in batch.results[r].findings().iter().enumerate() {
            if f.line().is_none() {
                let mut t = Vec::with_capacity(16);
                if pointer::push_tokens(prefix, &mut t) && pointer::push_tokens(f.path(), &mut t) {
                    wanted.push((r, i));
                    pointers.push(t);
                }
            }
        }
    }
    let (scan, offsets) = json::scan_locate(text.as_bytes(), limits.max_depth, &pointers);
    if !scan.invalid && (scan.duplicates || scan.list) {
        batch.results.truncate(first);
        if let Some(objects) = &mut batch.objects {
            objects.truncate(first);
        }
        match json::read(text, base as u32) {
            Ok((root, dups)) => batch.judge_tree(document, &root, &dups, origin),
            Err(e) => {
                let p = batch.problem_at(e.message, e.offset);
                batch.bad(document, p, origin);
            }
        }
        return read;
    }
    for ((r, i), offset) in wanted.into_iter().zip(offsets) {
        batch.results[r].findings_mut()[i].set_line(Some(batch.lines.line(base as u32 + offset)));
    }
    read
}

#[cfg(feature = "yaml")]
/// Judges the YAML stream that starts at byte `base` of the input, its documents numbered from
/// `document`.
fn judge_yaml(
    batch: &mut Batch<'_>,
    bytes: &[u8],
    invalid: &[usize],
    whole: &Origin<'_>,
    base: usize,
    mut document: usize,
) {
    // One budget for the whole input: what anchors and aliases copy is charged across all
    // of its documents (README, "Limits").
    let mut budget = yaml::Budget::for_input(&batch.policy.settings().limits, bytes.len());
    let text = batch.text.get(base..).unwrap_or("");
    for mut chunk in input::split_documents(text) {
        chunk.start += base;
        // kubectl parses each document on its own, and go-yaml skips a byte order mark at the
        // start of what it parses (yaml.v2 readerc.go `yaml_parser_determine_encoding`): a
        // later document may start with one too (files saved with one, joined by `---`).
        if let Some(rest) = chunk.text.strip_prefix('\u{feff}') {
            chunk.text = rest;
            chunk.start += '\u{feff}'.len_utf8();
        }
        let start = chunk.start;
        let end = start + chunk.text.len();
        if let Some((at, message)) = input::kubectl_stops(chunk.text) {
            let mut p = batch.problem_at(message.to_owned(), (start + at) as u32);
            p.line = p.line.map(|l| l.saturating_sub(whole.first_line));
            batch.bad(document, p, whole);
            document += 1;
            continue;
        }
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
        for d in yaml::read(chunk.text, start as u32, &mut budget) {
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
                    batch.unparsed(document, p, &origin, chunk.text);
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
        Ok((root, _)) if !matches!(list_items(&root), List::No) => {
            batch.judge_tree(0, &root, &[], &origin);
            // A caller's value has no lines.
            for r in &mut batch.results {
                for f in r.findings_mut() {
                    f.set_line(None);
                }
            }
        }
        _ => {
            let units = units(input::value_doc(policy.reading(), value), false);
            batch.judge(0, units, &Where::Nowhere, &origin);
        }
    }
    Report::new(batch.results)
}
