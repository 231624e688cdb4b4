//! Properties over generated manifests and arbitrary bytes: the engine never panics, is
//! deterministic, its patches are idempotent, and findings do not depend on map key order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cks_policy_tests::cases;
use policy_core::{apply_patch, check, review, Context, Policy, Report};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const D: &str = "sha256:3f5e8b5c7ab2740c0f7b1e3e8d3d7b5f0c1a2b3c4d5e6f7081920a1b2c3d4e5f";

fn image() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("nginx".to_owned()),
        Just("nginx:latest".to_owned()),
        Just("nginx:1.25".to_owned()),
        Just(format!("registry.example.com/app@{D}")),
        Just(format!("registry.example.com:5000/team/app:v1@{D}")),
        Just("Registry.example.com/App:v1".to_owned()),
        Just("postgres:16".to_owned()),
        Just("nvcr.io/nvidia/gpu-operator:v24.3.0".to_owned()),
        Just("a//b".to_owned()),
        "[a-z0-9./:@-]{0,40}",
    ]
}

fn labels() -> impl Strategy<Value = Map<String, Value>> {
    let key = prop_oneof![
        Just("app"),
        Just("qos.coreweave.cloud/interruptable"),
        Just("qos.coreweave.com/graceful-interruptible"),
        Just("qos.coreweave.cloud/graceful-interruptible"),
        Just("qos.coreweave.cloud/interruptible"),
        Just("foo.coreweave.cloud/bar"),
        Just("metadata.coreweave.cloud/job"),
        Just("a~b/c"),
        Just("-bad-"),
    ];
    let value = prop_oneof![
        Just("true"),
        Just("false"),
        Just("x"),
        Just(""),
        Just("-no-")
    ];
    prop::collection::btree_map(key, value, 0..4).prop_map(|m| {
        m.into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect()
    })
}

fn toleration() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"operator": "Exists"})),
        Just(json!({"key": "is_cpu_compute", "operator": "Exists", "effect": "NoSchedule"})),
        Just(json!({"key": "is_gpu", "operator": "Exists"})),
        Just(json!({"key": "node.coreweave.cloud/reserved", "operator": "Exists"})),
        Just(
            json!({"key": "sunk.coreweave.com/lock", "operator": "Equal", "value": "true", "effect": "NoExecute"})
        ),
    ]
}

fn pod_spec() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec((image(), any::<bool>(), any::<bool>()), 1..3),
        prop::option::of(prop::collection::vec(toleration(), 0..3)),
        any::<bool>(),
        prop::option::of(prop_oneof![
            Just(json!({"node.kubernetes.io/type": "H100_NVLINK_80GB.8.xeon.128"})),
            Just(json!({"gpu.nvidia.com/class": "A100_NVLINK"})),
            Just(json!({"node.kubernetes.io/instance-type": "gd-8xh100ib-i128"})),
            Just(json!({"node.kubernetes.io/instance-type": "h100-typo"})),
            Just(json!({"node.kubernetes.io/type": "gd-8xa100-i128", "node.kubernetes.io/instance-type": "gd-8xa100-i128"})),
            Just(json!({"node.kubernetes.io/type": "gd-8xa100-i128", "node.kubernetes.io/instance-type": "b200-8x"})),
        ]),
    )
        .prop_map(|(containers, tolerations, init, selector)| {
            let cs: Vec<Value> = containers
                .iter()
                .enumerate()
                .map(|(i, (img, gpu, always))| {
                    let mut c = json!({"name": format!("c{i}"), "image": img});
                    if *gpu {
                        c["resources"] = json!({"limits": {"nvidia.com/gpu": "1"}});
                    }
                    if *always {
                        c["imagePullPolicy"] = json!("Always");
                    }
                    c
                })
                .collect();
            let mut spec = json!({"containers": cs});
            if init {
                spec["initContainers"] = json!([{"name": "init", "image": "busybox:1.36"}]);
            }
            if let Some(t) = tolerations {
                spec["tolerations"] = Value::Array(t);
            }
            if let Some(s) = selector {
                spec["nodeSelector"] = s;
            }
            spec
        })
}

fn manifest() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        Just(("v1", "Pod")),
        Just(("apps/v1", "Deployment")),
        Just(("apps/v1", "StatefulSet")),
        Just(("apps/v1", "DaemonSet")),
        Just(("batch/v1", "Job")),
        Just(("kubeflow.org/v1", "PyTorchJob")),
    ];
    (kind, labels(), labels(), pod_spec()).prop_map(|((av, kind), own, tpl, spec)| {
        let meta = json!({"name": "x", "namespace": "ns", "labels": own});
        let template = json!({"metadata": {"labels": tpl}, "spec": spec});
        match kind {
            "Pod" => json!({"apiVersion": av, "kind": kind, "metadata": {"name": "x", "labels": tpl}, "spec": template["spec"]}),
            "PyTorchJob" => json!({"apiVersion": av, "kind": kind, "metadata": meta,
                "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": template}}}}),
            "Job" => json!({"apiVersion": av, "kind": kind, "metadata": meta,
                "spec": {"parallelism": 2, "template": template}}),
            _ => json!({"apiVersion": av, "kind": kind, "metadata": meta, "spec": {"template": template}}),
        }
    })
}

fn run(policy: &Policy, text: &str) -> Report {
    check(policy, Some("p.yaml"), text.as_bytes(), &Context::default())
}

/// Serializes with object keys in reverse order, to show findings do not depend on key order.
fn reversed_json(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .rev()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), reversed_json(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(reversed_json).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// Applies each result's patch to its document and judges again: no patch may remain.
fn assert_idempotent(policy: &Policy, doc: &Value) {
    let text = serde_json::to_string(doc).unwrap();
    let first = run(policy, &text);
    let mut patched = doc.clone();
    for r in &first.results {
        apply_patch(&mut patched, &r.patch).unwrap();
    }
    let second = run(policy, &serde_json::to_string(&patched).unwrap());
    for r in &second.results {
        assert!(
            r.patch.is_empty(),
            "patch not idempotent for {text}: second patch {:?}",
            r.patch
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let policy = Policy::default();
        let r = check(&policy, None, &bytes, &Context::default());
        prop_assert!(r.summary.documents <= bytes.len() + 1);
        let _ = review(&policy, &bytes, &Context::default());
    }

    #[test]
    fn never_panics_on_yaml_like_text(text in "([a-z:{}\\[\\], \"'&*!|>#-]|\n  |\n---\n){0,200}") {
        let policy = Policy::default();
        let a = run(&policy, &text);
        let b = run(&policy, &text);
        prop_assert_eq!(a.to_json(), b.to_json());
    }

    #[test]
    fn generated_manifests_are_deterministic_order_free_and_idempotent(doc in manifest()) {
        let policy = Policy::default();
        let text = serde_json::to_string(&doc).unwrap();
        let a = run(&policy, &text);
        prop_assert_eq!(a.to_json(), run(&policy, &text).to_json());
        // Same findings whatever the key order (JSON with reversed keys, and as YAML).
        let rev = run(&policy, &reversed_json(&doc));
        prop_assert_eq!(a.results[0].findings().iter().map(|f| (f.rule(), f.path(), f.message())).collect::<Vec<_>>(),
                        rev.results[0].findings().iter().map(|f| (f.rule(), f.path(), f.message())).collect::<Vec<_>>());
        prop_assert_eq!(&a.results[0].patch, &rev.results[0].patch);
        assert_idempotent(&policy, &doc);
    }

    #[test]
    fn arbitrary_json_values_never_panic(v in arb_json()) {
        let policy = Policy::default();
        let _ = policy_core::evaluate_value(&policy, &v, &Context::default());
        let _ = run(&policy, &v.to_string());
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-zA-Z0-9./:-]{0,12}".prop_map(Value::String),
        Just(json!("v1")),
        Just(json!("Pod")),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("apiVersion".to_owned()),
                    Just("kind".to_owned()),
                    Just("metadata".to_owned()),
                    Just("spec".to_owned()),
                    Just("template".to_owned()),
                    Just("containers".to_owned()),
                    Just("labels".to_owned()),
                    Just("items".to_owned()),
                    Just("request".to_owned()),
                    Just("object".to_owned()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn fixture_patches_are_idempotent() {
    for case in cases() {
        let policy = Policy::from_slice(&case.settings).unwrap();
        let context: Context = serde_json::from_slice(&case.context).unwrap();
        let first = check(&policy, Some(&case.input_name), &case.input, &context);
        if first.results.iter().all(|r| r.patch.is_empty()) {
            continue;
        }
        // Rewrite the input with every document's patch applied, as `--fix` does. (A case that
        // is not UTF-8 on purpose cannot be rewritten as text.)
        let Ok(text) = std::str::from_utf8(&case.input) else {
            continue;
        };
        let docs: Vec<Value> = if text.trim_start().starts_with('{') {
            let stream = json_stream(text);
            let mut docs: Vec<Value> = stream
                .values
                .iter()
                .map(|&(s, e)| serde_json::from_str(&text[s..e]).unwrap())
                .filter(|v: &Value| !v.is_null())
                .collect();
            match stream.rest {
                Rest::None => {}
                Rest::Yaml(at) => docs.extend(
                    policy_core::yaml::parse_documents(&text[at..], 0)
                        .into_iter()
                        .map(|r| r.unwrap_or(Value::Null)),
                ),
                Rest::Stopped(_) => docs.push(Value::Null),
            }
            docs
        } else {
            policy_core::yaml::parse_documents(text, 0)
                .into_iter()
                .map(|r| r.unwrap_or(Value::Null))
                .collect()
        };
        let mut out = String::new();
        for (i, mut d) in docs.into_iter().enumerate() {
            for r in first.results.iter().filter(|r| r.document == i) {
                let target = if d.get("kind").and_then(Value::as_str) == Some("AdmissionReview") {
                    &mut d["request"]["object"]
                } else {
                    &mut d
                };
                apply_patch(target, &r.patch).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            }
            out.push_str("---\n");
            out.push_str(&serde_json::to_string(&d).unwrap());
            out.push('\n');
        }
        let second = check(&policy, Some(&case.input_name), out.as_bytes(), &context);
        for r in &second.results {
            assert!(
                r.patch.is_empty(),
                "{}: second patch {:?}",
                case.name,
                r.patch
            );
        }
    }
}

// ---- The line of every finding is the line of its field ---------------------------------------
//
// The expected line is computed by a small reader of its own over yaml-rust2's events (JSON text
// is YAML too), independent of the core's tree and of its JSON scanner: the text is split into
// documents as kubectl's `YAMLReader` splits it (a line that starts with `---` followed by
// nothing or a comment; k8s.io/apimachinery `pkg/util/yaml/decoder.go`, `YAMLReader.Read`), each
// node records the 1-based line where it starts, and a pointer is walked to the deepest node
// that exists: a map member's line is its key's, a list item's is the item's.

/// How a JSON stream goes on after its values.
enum Rest {
    /// Only whitespace.
    None,
    /// A YAML stream from this offset (after exactly one value).
    Yaml(usize),
    /// kubectl stops with an error at this offset (after two or more values).
    Stopped(usize),
}

/// A JSON stream split as apimachinery's `YAMLOrJSONDecoder` reads it (k8s.io/apimachinery
/// `pkg/util/yaml/decoder.go`): Go's `json.Decoder` reads values one after another; when the
/// next fails after one value the rest, from its first non-space character or after the first
/// newline (`consumeWhitespace`), is YAML; after two or more, reading stops.
struct JsonStream {
    values: Vec<(usize, usize)>,
    rest: Rest,
}

fn json_stream(text: &str) -> JsonStream {
    let mut it = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut values = Vec::new();
    let mut failed = false;
    loop {
        let before = it.byte_offset();
        match it.next() {
            None => break,
            Some(Ok(_)) => {
                let ws = text[before..].len() - text[before..].trim_start().len();
                values.push((before + ws, it.byte_offset()));
            }
            Some(Err(_)) => {
                failed = true;
                break;
            }
        }
    }
    let end = values.last().map_or(0, |&(_, e)| e);
    let rest = match (failed, values.len()) {
        (false, _) | (true, 0) => Rest::None,
        (true, 1) => {
            let mut at = end;
            for c in text[end..].chars() {
                if !c.is_whitespace() {
                    break;
                }
                at += c.len_utf8();
                if c == '\n' {
                    break;
                }
            }
            Rest::Yaml(at)
        }
        (true, _) => Rest::Stopped(end),
    };
    JsonStream { values, rest }
}

/// A node of the independent reader.
#[derive(Clone, Debug)]
struct LNode {
    /// 1-based line of the input where the node starts.
    line: usize,
    kind: LKind,
}

#[derive(Clone, Debug)]
enum LKind {
    /// Members in order: key, the key's line, value (last write wins, as kubectl keeps it).
    Map(Vec<(String, usize, LNode)>),
    Seq(Vec<LNode>),
    Scalar(String),
}

impl LNode {
    fn get(&self, key: &str) -> Option<&LNode> {
        match &self.kind {
            LKind::Map(m) => m.iter().find(|(k, _, _)| k == key).map(|(_, _, n)| n),
            _ => None,
        }
    }

    fn scalar(&self) -> Option<&str> {
        match &self.kind {
            LKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The line of the node at `tokens`, or of its deepest ancestor that exists.
    fn line_of(&self, tokens: &[String]) -> usize {
        let mut cur = self;
        let mut line = self.line;
        for t in tokens {
            let next = match &cur.kind {
                LKind::Map(m) => m.iter().find(|(k, _, _)| k == t).map(|(_, l, n)| (*l, n)),
                LKind::Seq(items) => t
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|n| (n.line, n)),
                LKind::Scalar(_) => None,
            };
            match next {
                Some((l, n)) => {
                    line = l;
                    cur = n;
                }
                None => break,
            }
        }
        line
    }
}

/// One document as `check` numbers them.
#[derive(Debug)]
enum LDoc {
    /// Read: its root, the line `# Source:` lines count from (0 for none), and the first and
    /// last line of its chunk.
    Tree(LNode, usize, usize, usize),
    /// Not readable (by this reader): only the lines it spans are known.
    Bad { first: usize, last: usize },
}

/// RFC 4648 base64 (`!!binary`), whitespace ignored.
fn base64(s: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    String::from_utf8(out).ok()
}

struct LineReader<'a> {
    parser: yaml_rust2::parser::Parser<std::str::Chars<'a>>,
    chars: Vec<char>,
    /// Line of the chunk's first line in the input, minus one.
    base: usize,
    anchors: std::collections::HashMap<usize, LNode>,
}

impl LineReader<'_> {
    fn next(&mut self) -> Option<(yaml_rust2::Event, usize, char)> {
        let (ev, mark) = self.parser.next_token().ok()?;
        let c = self.chars.get(mark.index()).copied().unwrap_or(' ');
        Some((ev, self.base + mark.line(), c))
    }

    fn node(&mut self, ev: yaml_rust2::Event, line: usize, at: char) -> Option<LNode> {
        use yaml_rust2::Event;
        let (node, anchor) = match ev {
            Event::Scalar(s, style, anchor, tag) => {
                let binary = tag
                    .as_ref()
                    .is_some_and(|t| t.handle == "tag:yaml.org,2002:" && t.suffix == "binary");
                let plain = style == yaml_rust2::scanner::TScalarStyle::Plain && tag.is_none();
                // A map key is a string in JSON: kubectl writes a YAML 1.1 bool or null key as
                // its JSON text (sigs.k8s.io/yaml `yaml.go` `convertToJSONableObject`).
                let text = if binary {
                    base64(&s)?
                } else if plain
                    && [
                        "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
                    ]
                    .contains(&s.as_str())
                {
                    "true".to_owned()
                } else if plain
                    && [
                        "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE",
                    ]
                    .contains(&s.as_str())
                {
                    "false".to_owned()
                } else if plain && ["", "~", "null", "Null", "NULL"].contains(&s.as_str()) {
                    "null".to_owned()
                } else {
                    s
                };
                (
                    LNode {
                        line,
                        kind: LKind::Scalar(text),
                    },
                    anchor,
                )
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, l, c) = self.next()?;
                    if ev == Event::SequenceEnd {
                        break;
                    }
                    items.push(self.node(ev, l, c)?);
                }
                (
                    LNode {
                        line,
                        kind: LKind::Seq(items),
                    },
                    anchor,
                )
            }
            Event::MappingStart(anchor, _) => {
                let mut members: Vec<(String, usize, LNode)> = Vec::new();
                let mut first_key = None;
                loop {
                    let (kev, kl, kc) = self.next()?;
                    if kev == Event::MappingEnd {
                        break;
                    }
                    first_key.get_or_insert(kl);
                    let key = self.node(kev, kl, kc)?;
                    let (vev, vl, vc) = self.next()?;
                    let value = self.node(vev, vl, vc)?;
                    let key = key.scalar()?.to_owned();
                    let mut set = |k: String, l: usize, v: LNode| match members
                        .iter_mut()
                        .find(|(m, _, _)| *m == k)
                    {
                        Some(m) => *m = (k, l, v),
                        None => members.push((k, l, v)),
                    };
                    if key == "<<" {
                        // Merge: a map, or a list of maps applied last to first.
                        let sources = match value.kind {
                            LKind::Seq(items) => items.into_iter().rev().collect(),
                            _ => vec![value],
                        };
                        for s in sources {
                            if let LKind::Map(m) = s.kind {
                                for (k, l, v) in m {
                                    set(k, l, v);
                                }
                            }
                        }
                    } else {
                        set(key, kl, value);
                    }
                }
                // A block map starts at its first key; a flow map at its `{`.
                let line = if at == '{' {
                    line
                } else {
                    first_key.unwrap_or(line)
                };
                (
                    LNode {
                        line,
                        kind: LKind::Map(members),
                    },
                    anchor,
                )
            }
            // An alias starts where `*name` is written; what it copies, where the anchored text is.
            Event::Alias(id) => {
                let mut n = self.anchors.get(&id)?.clone();
                n.line = line;
                return Some(n);
            }
            _ => return None,
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Some(node)
    }
}

/// Whether a character may appear in a YAML stream (YAML 1.1 §5.1 `c-printable`).
fn yaml_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

/// The documents of an input as `check` numbers them.
fn line_documents(input: &[u8]) -> Vec<LDoc> {
    use yaml_rust2::Event;
    let input = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input);
    // (first line, bytes) of each kubectl chunk; JSON text is one document.
    let mut chunks: Vec<(usize, Vec<u8>)> = Vec::new();
    let yaml_chunks = |chunks: &mut Vec<(usize, Vec<u8>)>, input: &[u8], first: usize| {
        let mut cur: Option<(usize, Vec<u8>)> = None;
        for (i, line) in input.split_inclusive(|b| *b == b'\n').enumerate() {
            if let Some(rest) = line.strip_prefix(b"---") {
                let rest = String::from_utf8_lossy(rest);
                let rest = rest.trim();
                if rest.is_empty() || rest.starts_with('#') {
                    chunks.extend(cur.take());
                    continue;
                }
            }
            cur.get_or_insert_with(|| (first + i, Vec::new()))
                .1
                .extend_from_slice(line);
        }
        chunks.extend(cur);
    };
    let line_at = |at: usize| 1 + input[..at].iter().filter(|b| **b == b'\n').count();
    let text = std::str::from_utf8(input).ok();
    if let Some(text) = text.filter(|t| t.trim_start().starts_with('{')) {
        // JSON text: each value of the stream is a document, and after one value the rest is
        // YAML (apimachinery `YAMLOrJSONDecoder`).
        let stream = json_stream(text);
        if stream.values.is_empty() {
            chunks.push((1, input.to_vec()));
        }
        for &(s, e) in &stream.values {
            chunks.push((line_at(s), input[s..e].to_vec()));
        }
        match stream.rest {
            Rest::None => {}
            Rest::Yaml(at) => yaml_chunks(&mut chunks, &input[at..], line_at(at)),
            Rest::Stopped(at) => chunks.push((line_at(at), input[at..].to_vec())),
        }
    } else if input.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        chunks.push((1, input.to_vec()));
    } else {
        yaml_chunks(&mut chunks, input, 1);
    }
    let mut docs = Vec::new();
    for (first, bytes) in chunks {
        let last = first + bytes.iter().filter(|b| **b == b'\n').count();
        let Ok(text) = std::str::from_utf8(&bytes) else {
            docs.push(LDoc::Bad { first, last });
            continue;
        };
        if text.chars().any(|c| !yaml_printable(c)) {
            docs.push(LDoc::Bad { first, last });
            continue;
        }
        // `helm template` documents count lines from their `# Source:` comment.
        let source = text
            .lines()
            .enumerate()
            .find(|(_, l)| !l.trim().is_empty())
            .filter(|(_, l)| l.trim().starts_with("# Source: "))
            .map_or(0, |(i, _)| first + i);
        // Lines only: a tab read as a space moves no line, and yaml-rust2 refuses the tab after
        // a value's `:` that go-yaml (and so the core) reads.
        let text = &text.replace('\t', " ");
        let mut r = LineReader {
            parser: yaml_rust2::parser::Parser::new_from_str(text),
            chars: text.chars().collect(),
            base: first - 1,
            anchors: Default::default(),
        };
        loop {
            match r.next() {
                Some((Event::StreamStart | Event::DocumentEnd, _, _)) => {}
                Some((Event::StreamEnd, _, _)) => break,
                Some((Event::DocumentStart, _, _)) => {
                    r.anchors.clear();
                    let root = r.next().and_then(|(ev, l, c)| r.node(ev, l, c));
                    match root {
                        Some(LNode {
                            kind: LKind::Scalar(s),
                            ..
                        }) if s == "null" => {}
                        Some(root) => docs.push(LDoc::Tree(root, source, first, last)),
                        None => {
                            docs.push(LDoc::Bad { first, last });
                            break;
                        }
                    }
                }
                _ => {
                    docs.push(LDoc::Bad { first, last });
                    break;
                }
            }
        }
    }
    docs
}

/// Where the judged object of a document is: `/request/object` (`/request/oldObject` on
/// DELETE) in an AdmissionReview, `/object` in a bare AdmissionRequest, else the root.
fn object_prefix(root: &LNode) -> Vec<String> {
    let (mut prefix, request) = match root.get("kind") {
        Some(k) if k.scalar() == Some("AdmissionReview") => {
            (vec!["request".to_owned()], root.get("request"))
        }
        Some(LNode {
            kind: LKind::Map(_),
            ..
        }) => (vec![], Some(root)),
        _ => return vec![],
    };
    let delete = request
        .and_then(|r| r.get("operation"))
        .and_then(LNode::scalar)
        == Some("DELETE");
    prefix.push(if delete { "oldObject" } else { "object" }.to_owned());
    prefix
}

/// RFC 6901 tokens.
fn pointer_tokens(p: &str) -> Vec<String> {
    if p.is_empty() {
        return vec![];
    }
    p.split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Checks the line of every finding of `report` (judged from `input`) against the independent
/// reader; returns how many were checked.
fn check_lines(
    name: &str,
    input: &[u8],
    report: &Report,
    failures: &mut Vec<String>,
    skipped: &mut Vec<(String, String)>,
) -> usize {
    let mut checked = 0usize;
    let docs = line_documents(input);
    for r in &report.results {
        let Some(doc) = docs.get(r.document) else {
            failures.push(format!(
                "{name}: document {} is not in the text ({} documents read)",
                r.document,
                docs.len()
            ));
            continue;
        };
        for f in r.findings() {
            let Some(line) = f.line() else { continue };
            let line = line as usize;
            checked += 1;
            let (first, last, source) = match doc {
                LDoc::Bad { first, last } => (*first, *last, 0),
                LDoc::Tree(_, source, first, last) => (*first, *last, *source),
            };
            if f.rule() == policy_core::RuleId::InputInvalid {
                // The line of the problem (a value, a second key): within the document.
                if !(first..=last).contains(&(line + source)) {
                    failures.push(format!(
                        "{name} #{}: {} at line {line}, outside the document's lines {first}..={last}",
                        r.document, f.message()
                    ));
                }
                continue;
            }
            let LDoc::Tree(root, ..) = doc else {
                skipped.push((
                    name.to_owned(),
                    format!(
                        "document {} read by the core only: {} {}",
                        r.document,
                        f.rule().as_str(),
                        f.path()
                    ),
                ));
                continue;
            };
            let mut tokens = object_prefix(root);
            tokens.extend(pointer_tokens(f.path()));
            let want = root.line_of(&tokens) - source;
            if line != want {
                failures.push(format!(
                    "{name} #{}: {} `{}` reported at line {line}, but the field starts at line {want}",
                    r.document,
                    f.rule().as_str(),
                    f.path()
                ));
            }
        }
    }
    checked
}

#[test]
fn finding_lines_are_the_lines_of_their_fields() {
    let mut checked = 0usize;
    let mut failures = Vec::new();
    // (case, why) for every finding whose line this reader cannot define.
    let mut skipped: Vec<(String, String)> = Vec::new();
    for case in cases() {
        let policy = Policy::from_slice(&case.settings).unwrap();
        let context: Context = serde_json::from_slice(&case.context).unwrap();
        let report = check(&policy, Some(&case.input_name), &case.input, &context);
        // Nothing to locate when every finding is a whole-document `input-invalid` (an alias
        // bomb, too deep, control characters): this reader would expand or descend without the
        // core's budgets.
        let locatable = report
            .results
            .iter()
            .flat_map(|r| r.findings())
            .any(|f| !(f.rule() == "input-invalid" && f.path().is_empty()));
        if !locatable {
            continue;
        }
        checked += check_lines(
            &case.name,
            &case.input,
            &report,
            &mut failures,
            &mut skipped,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 200, "only {checked} findings had lines to check");
    assert!(
        skipped.len() <= 3,
        "too many findings skipped: {skipped:#?}"
    );
}

/// The same property on text written to trip a reader: aliases and merge keys, duplicate keys,
/// `!!binary` keys, a `kind: List`, a YAML AdmissionReview, flow style, `helm template` output.
#[test]
fn finding_lines_in_tricky_yaml() {
    const POD: &str = "spec:\n  containers:\n  - name: a\n    image: nginx\n    securityContext: {privileged: true}\n";
    let mut inputs: Vec<(&str, String)> = vec![
        ("anchors", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: &l\n    app: a\n  annotations: *l\nspec:\n  containers:\n  - &c\n    name: a\n    image: nginx\n  - *c\n  - <<: *c\n    name: b\n".to_owned()),
        ("duplicates", format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\nkind: Pod\n{POD}")),
        ("binary", format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n    !!binary cW9zLmNvcmV3ZWF2ZS5jbG91ZC9pbnRlcnJ1cHRhYmxl: \"true\"\n{POD}")),
        ("list", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec:\n    containers:\n    - name: a\n      image: nginx\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: b\n  spec:\n    template:\n      spec:\n        containers: [{name: b, image: \"nginx:1\"}]\n".to_owned()),
        ("review", "apiVersion: admission.k8s.io/v1\nkind: AdmissionReview\nrequest:\n  uid: u\n  operation: CREATE\n  kind: {group: \"\", version: v1, kind: Pod}\n  object:\n    apiVersion: v1\n    kind: Pod\n    metadata:\n      name: a\n    spec:\n      containers:\n      - name: a\n        image: nginx\n".to_owned()),
        ("multi", format!("# comment\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: a}}\n{POD}---\n---\n# Source: chart/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n{POD}--- # x\napiVersion: v1\nkind: Pod\nmetadata: {{name: c, labels: {{enabled: yes}}}}\n{POD}")),
    ];
    let json = |v: Value| serde_json::to_string_pretty(&v).unwrap();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"},
        "spec": {"containers": [{"name": "a", "image": "nginx", "securityContext": {"privileged": true}}]}});
    inputs.push(("json-pod", json(pod.clone())));
    inputs.push((
        "json-list",
        json(json!({"apiVersion": "v1", "kind": "List", "items": [pod.clone(), pod.clone()]})),
    ));
    inputs.push(("json-review", json(json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "u", "operation": "CREATE", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "object": pod}}))));
    inputs.push((
        "json-duplicate",
        "{\n \"apiVersion\": \"apps/v1\",\n \"kind\": \"ConfigMap\",\n \"metadata\": {\"name\": \"a\"},\n \"spec\": {\"template\": {\"spec\": {\"containers\": [\n  {\"name\": \"a\", \"image\": \"nginx\"}]}}},\n \"kind\": \"StatefulSet\"\n}\n".to_owned(),
    ));
    let policy = Policy::default();
    let mut checked = 0usize;
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for (name, text) in &inputs {
        let report = check(
            &policy,
            Some("t.yaml"),
            text.as_bytes(),
            &Context::default(),
        );
        let n = check_lines(name, text.as_bytes(), &report, &mut failures, &mut skipped);
        assert!(n > 0, "{name}: no finding has a line: {}", report.to_json());
        checked += n;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(skipped.is_empty(), "{skipped:?}");
    assert!(checked >= inputs.len());
}

/// The independent reader itself: key lines, item lines, aliases, merges, `!!binary`.
#[test]
fn line_reader_reads_lines() {
    let text = "a:\n  b: &x\n    c: 1\n  d: *x\n  e:\n  - 1\n  -\n    f: 2\n  g:\n    <<: *x\n  !!binary aA==: 3\n";
    let docs = line_documents(text.as_bytes());
    let [LDoc::Tree(root, 0, 1, 12)] = docs.as_slice() else {
        panic!("{docs:?}")
    };
    let at = |p: &str| root.line_of(&pointer_tokens(p));
    assert_eq!(at(""), 1);
    assert_eq!(at("/a/b"), 2);
    assert_eq!(at("/a/b/c"), 3);
    assert_eq!(at("/a/d"), 4);
    assert_eq!(at("/a/d/c"), 3);
    assert_eq!(at("/a/e/0"), 6);
    assert_eq!(at("/a/e/1"), 8);
    assert_eq!(at("/a/e/1/f"), 8);
    assert_eq!(at("/a/e/7/x"), 5);
    assert_eq!(at("/a/g/c"), 3);
    assert_eq!(at("/a/h"), 11);
    assert_eq!(at("/a/nope/deeper"), 1);
}

/// A bare AdmissionRequest (no AdmissionReview envelope) holds its object at `/object`: its
/// findings are located there, not under `/request/object`.
#[test]
fn finding_lines_in_a_bare_admission_request() {
    let text = serde_json::to_string_pretty(&json!({"uid": "u", "operation": "CREATE",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"},
            "spec": {"containers": [{"name": "a", "image": "nginx"}]}}}))
    .unwrap();
    let report = check(
        &Policy::default(),
        Some("r.json"),
        text.as_bytes(),
        &Context::default(),
    );
    let (mut failures, mut skipped) = (Vec::new(), Vec::new());
    let n = check_lines(
        "bare-request",
        text.as_bytes(),
        &report,
        &mut failures,
        &mut skipped,
    );
    assert!(n > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
