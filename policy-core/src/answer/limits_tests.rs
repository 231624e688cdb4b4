//! The input limits (README, "Limits"): no accepted settings and no input can
//! make a read allocate without bound, the alias budget is spent across an input's documents,
//! and JSON and YAML refuse the same nesting.

use crate::model::catalogue::RuleId;
use crate::{check, Context, Policy, Report};

fn policy(settings: &str) -> Policy {
    Policy::from_slice(settings.as_bytes()).unwrap()
}

fn run(policy: &Policy, text: &str) -> Report {
    check(
        policy,
        Some("input.yaml"),
        text.as_bytes(),
        &Context::default(),
    )
}

/// The `input-invalid` messages of each document (empty for a document that was read).
fn invalid(report: &Report) -> Vec<Vec<String>> {
    report
        .results
        .iter()
        .map(|r| {
            r.findings()
                .iter()
                .filter(|f| f.rule() == RuleId::InputInvalid)
                .map(|f| f.message().to_owned())
                .collect()
        })
        .collect()
}

/// The 536-byte "billion laughs": nine levels of nine aliases, 9^9 nodes.
pub(crate) fn laughs() -> String {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let (prev, name) = (w[0], w[1]);
        let items = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{name}: &{name} [{items}]\n"));
    }
    text
}

/// The largest settings every limit accepts.
const LARGEST: &str = r#"{"limits": {"maxBytes": 16777216, "maxDepth": 128, "maxAliases": 10000, "maxAliasNodes": 1000000}}"#;

#[test]
fn the_bomb_under_the_largest_settings_is_refused_before_copying() {
    let p = policy(LARGEST);
    let bomb = laughs();
    let report = run(&p, &bomb);
    let messages = invalid(&report);
    assert_eq!(messages.len(), 1, "{report:?}");
    assert!(
        messages[0]
            .iter()
            .any(|m| m.contains("`limits.maxAliasNodes`")),
        "{messages:?}"
    );
}

#[test]
fn nested_anchors_are_charged_for_what_they_copy() {
    // Each anchor keeps a copy of what it holds: 100 anchors nested around one list of
    // 20,000 items would copy 2,000,000 nodes while using no alias at all.
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nnested: ");
    for i in 0..100 {
        text.push_str(&format!("&n{i} ["));
    }
    text.push_str(&vec!["1"; 20_000].join(","));
    text.push_str(&"]".repeat(100));
    text.push('\n');
    let messages = invalid(&run(&policy(LARGEST), &text));
    assert!(
        messages[0]
            .iter()
            .any(|m| m.contains("anchors of this input hold more than")),
        "{messages:?}"
    );
    // One anchor around it, aliased once, is ordinary YAML.
    let single = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\nnested: &n [{}]\ncopy: *n\n",
        vec!["1"; 20_000].join(",")
    );
    assert_eq!(
        invalid(&run(&policy("{}"), &single)),
        vec![Vec::<String>::new()]
    );
}

#[test]
fn aliased_text_is_charged_in_bytes() {
    // 100 aliases of a 100 KB string copy 10 MB of text from a 100 KB input: more than
    // `limits.maxBytes` (4 MiB) of text, though only 100 nodes.
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ns: &s \"{}\"\nl: [{}]\n",
        "x".repeat(100_000),
        vec!["*s"; 99].join(",")
    );
    let messages = invalid(&run(&policy("{}"), &text));
    assert!(
        messages[0]
            .iter()
            .any(|m| m.contains("aliases of this input expand to more than 4194304 bytes of text in all (`limits.maxBytes`)")),
        "{messages:?}"
    );
}

/// One document whose aliases expand to 99,000 nodes: just under the default
/// `limits.maxAliasNodes` of 100,000 (its anchor holds 1,000 nodes, 99 aliases use it).
fn heavy_document(i: usize) -> String {
    format!(
        "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w{i}}}\nspec:\n  a: &a [{}]\n  b: [{}]\n",
        vec!["x"; 999].join(","),
        vec!["*a"; 99].join(",")
    )
}

#[test]
fn the_alias_budget_is_spent_across_the_documents_of_an_input() {
    let p = policy("{}");
    // One such document is accepted on its own.
    assert_eq!(
        invalid(&run(&p, &heavy_document(0))),
        vec![Vec::<String>::new()]
    );
    // 1,700 of them in one input under 4 MiB (1,705 fit): the input may copy
    // at most one node per byte, so about 40 documents are read and the rest refused.
    let text: String = (0..1700).map(heavy_document).collect();
    assert!(text.len() <= 4 * 1024 * 1024, "{}", text.len());
    let messages = invalid(&run(&p, &text));
    assert_eq!(messages.len(), 1700);
    let read = messages.iter().filter(|m| m.is_empty()).count();
    let budget = text.len(); // ALIAS_NODES_PER_BYTE = 1
    assert_eq!(
        read,
        budget / 99_000,
        "documents read before the budget ran out"
    );
    assert!(messages[..read].iter().all(Vec::is_empty));
    for m in &messages[read..] {
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("aliases of this input expand to more than"),
            "{m:?}"
        );
        assert!(m[0].contains("`limits.maxAliasNodes`"), "{m:?}");
    }
}

#[test]
fn many_documents_with_a_few_anchors_each_pass() {
    // A Helm-style output: 10,000 Deployments-like documents, each with a shared block of
    // labels anchored once and aliased twice, and a merge key.
    let p = policy("{}");
    let text: String = (0..10_000)
        .map(|i| {
            format!(
                "---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w{i}\n  labels: &labels {{app: web, tier: front, release: r{i}}}\nspec:\n  selector: {{matchLabels: *labels}}\n  template:\n    metadata: {{labels: *labels}}\n    base: &base {{replicas: 1, paused: false}}\n    merged: {{<<: *base, replicas: 2}}\n"
            )
        })
        .collect();
    let messages = invalid(&run(&p, &text));
    assert_eq!(messages.len(), 10_000);
    assert!(
        messages.iter().all(Vec::is_empty),
        "{:?}",
        messages.iter().find(|m| !m.is_empty())
    );
}

/// A ConfigMap with a field no rule reads nested `levels` deep (the root map is level 1),
/// written once as JSON with `kind` first and once as YAML.
fn deep(levels: usize, field: &str) -> (String, String) {
    let inner = levels - 1;
    let nest = format!("{}{}", "[".repeat(inner), "]".repeat(inner));
    (
        format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"x"}},"{field}":{nest}}}"#
        ),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n{field}: {nest}\n"),
    )
}

#[test]
fn json_and_yaml_refuse_the_same_nesting() {
    for settings in ["{}", r#"{"limits": {"maxDepth": 40}}"#] {
        let p = policy(settings);
        let limit = p.settings().limits.max_depth;
        // `b` sorts before `kind`: the typed read buffers it before it knows the kind.
        for field in ["b", "z"] {
            let (json, yaml) = deep(limit, field);
            assert_eq!(
                invalid(&run(&p, &json)),
                vec![Vec::<String>::new()],
                "{limit} {field} JSON"
            );
            assert_eq!(
                invalid(&run(&p, &yaml)),
                vec![Vec::<String>::new()],
                "{limit} {field} YAML"
            );
            let (json, yaml) = deep(limit + 1, field);
            let expected =
                format!("document is nested more than {limit} levels deep (`limits.maxDepth`)");
            for (what, text) in [("JSON", json), ("YAML", yaml)] {
                let m = invalid(&run(&p, &text));
                assert_eq!(m.len(), 1, "{what}");
                assert!(
                    m[0].len() == 1 && m[0][0].starts_with(&expected),
                    "{limit} {field} {what}: {m:?}"
                );
            }
        }
    }
}

#[test]
fn settings_that_cannot_be_read_say_so_in_plain_words() {
    let deep = format!("a: {}{}\n", "[".repeat(200), "]".repeat(200));
    let e = Policy::from_slice(deep.as_bytes()).unwrap_err();
    let m = &e.problems()[0].message;
    assert!(
        m.starts_with("settings cannot be read: document is nested more than"),
        "{m}"
    );
    let e = Policy::from_slice(b"a: [\n").unwrap_err();
    let m = &e.problems()[0].message;
    assert!(m.starts_with("settings are not valid YAML: "), "{m}");
}
