//! The ready-to-apply `ClusterAdmissionPolicy` examples in `policy-wasm/kubewarden/examples/`
//! and the UI form `questions-ui.yml` agree with `metadata.yml` and with the settings the policy
//! accepts. Needs no module: settings go through `Policy::from_slice`, the same call the
//! module's `validate_settings` makes (policy-wasm/kubewarden/src/lib.rs, `compile`).
//!
//! Field meanings: kubewarden-controller `api/policies/v1/policy_types.go` (`PolicySpec`: mode
//! `protect`|`monitor`, rules, mutating, backgroundAudit, settings) and
//! `clusteradmissionpolicy_types.go` (`namespaceSelector`, `contextAwareResources`); the
//! questions format is Rancher's (`variable`, `type`: `string`, `boolean`, `enum`, `array[`,
//! `map[`, `subquestions`), as in Kubewarden's own policies' `questions-ui.yml`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use policy_core::DEFAULT_CONTROL_PLANE_NAMESPACES;
use policy_core::{Context, Policy, Severity};
use serde_json::{json, Map, Value};

fn kubewarden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../kubewarden")
}

fn yaml_file(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let mut docs = policy_core::yaml::parse_documents(&text, 0);
    assert_eq!(docs.len(), 1, "{}: one document expected", path.display());
    docs.remove(0)
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

/// Every `examples/*.yaml`, with its file name.
fn examples() -> Vec<(String, Value, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(kubewarden_dir().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some("yaml") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, yaml_file(&path), std::fs::read(&path).unwrap()));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn settings_accepted(what: &str, settings: &Value) {
    let bytes = serde_json::to_vec(settings).unwrap();
    if let Err(e) = Policy::from_slice(&bytes) {
        panic!("{what}: the policy refuses these settings: {e}\n{settings:#}");
    }
}

#[test]
fn examples_cover_protect_and_monitor() {
    let modes: BTreeSet<String> = examples()
        .iter()
        .map(|(_, e, _)| e["spec"]["mode"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        modes,
        BTreeSet::from(["monitor".to_owned(), "protect".to_owned()])
    );
}

#[test]
fn examples_match_metadata() {
    let meta = yaml_file(&kubewarden_dir().join("metadata.yml"));
    for (name, e, _) in examples() {
        assert_eq!(e["apiVersion"], "policies.kubewarden.io/v1", "{name}");
        assert_eq!(e["kind"], "ClusterAdmissionPolicy", "{name}");
        let spec = &e["spec"];
        assert_eq!(
            spec["rules"], meta["rules"],
            "{name}: rules differ from metadata.yml"
        );
        assert_eq!(spec["mutating"], meta["mutating"], "{name}: mutating");
        assert_eq!(spec["backgroundAudit"], meta["backgroundAudit"], "{name}");
        assert_eq!(
            spec["contextAwareResources"], meta["contextAwareResources"],
            "{name}: contextAwareResources"
        );
        assert!(spec["module"].as_str().unwrap().starts_with("registry://"));
    }
}

#[test]
fn examples_never_select_control_plane_namespaces() {
    let want = json!({
        "matchExpressions": [
            {"key": "ns.coreweave.cloud/org", "operator": "NotIn", "values": ["control-plane"]}
        ]
    });
    let policy = Policy::from_slice(b"").unwrap();
    for (name, e, bytes) in examples() {
        assert_eq!(e["spec"]["namespaceSelector"], want, "{name}");
        // The engine judges ClusterAdmissionPolicies itself (`webhook-scope`): the examples
        // must pass their own checker.
        let report = policy_core::check(&policy, Some(&name), &bytes, &Context::default());
        let errors: Vec<_> = report
            .results
            .iter()
            .flat_map(|r| r.findings())
            .filter(|f| f.severity() == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        assert_eq!(report.summary.documents, 1, "{name}");
    }
}

#[test]
fn example_settings_are_accepted_and_the_same_in_both_modes() {
    let all = examples();
    for (name, e, _) in &all {
        let settings = &e["spec"]["settings"];
        assert!(settings.is_object(), "{name}: settings are filled in");
        settings_accepted(name, settings);
        let listed: Vec<&str> = settings["controlPlaneNamespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for ns in DEFAULT_CONTROL_PLANE_NAMESPACES {
            assert!(
                listed.contains(ns),
                "{name}: controlPlaneNamespaces drops the default `{ns}`"
            );
        }
    }
    // Monitor mode is a rehearsal of protect mode: the same settings (the comments say so).
    let settings: Vec<&Value> = all.iter().map(|(_, e, _)| &e["spec"]["settings"]).collect();
    assert!(settings.windows(2).all(|w| w[0] == w[1]));
    // The check can fail: a key the settings do not know is refused.
    assert!(Policy::from_slice(br#"{"description": "x"}"#).is_err());
}

/// The schema node at a dotted settings path, following `$ref`s into `$defs`.
fn schema_at<'a>(schema: &'a Value, path: &str) -> &'a Value {
    let resolve = |mut node: &'a Value| {
        while let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let name = r.strip_prefix("#/$defs/").unwrap();
            node = &schema["$defs"][name];
        }
        node
    };
    let mut node = resolve(schema);
    for part in path.split('.') {
        node = resolve(
            node.get("properties")
                .and_then(|p| p.get(part))
                .unwrap_or_else(|| panic!("questions-ui.yml: `{path}` is not a settings path")),
        );
    }
    node
}

fn schema_types(node: &Value) -> Vec<&str> {
    match &node["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Checks one question against the schema and writes its default into `settings`.
fn check_question(q: &Value, schema: &Value, settings: &mut Map<String, Value>) {
    let var = q["variable"].as_str().unwrap();
    let node = schema_at(schema, var);
    let ty = q["type"].as_str().unwrap();
    match ty {
        "string" => assert!(schema_types(node).contains(&"string"), "{var}: {node}"),
        "boolean" => assert!(schema_types(node).contains(&"boolean"), "{var}: {node}"),
        "array[" => {
            assert!(schema_types(node).contains(&"array"), "{var}: {node}");
            assert_eq!(
                node["items"]["type"], "string",
                "{var}: an array of strings"
            );
        }
        "map[" => assert!(node.get("properties").is_some(), "{var}: {node}"),
        "enum" => {
            let consts: Vec<&Value> = node["oneOf"]
                .as_array()
                .unwrap_or_else(|| panic!("{var}: not an enum in the schema"))
                .iter()
                .map(|v| &v["const"])
                .collect();
            let options: Vec<&Value> = q["options"].as_array().unwrap().iter().collect();
            assert_eq!(options, consts, "{var}: options differ from the schema");
        }
        other => panic!("{var}: question type `{other}` is not one the Rancher UI knows"),
    }
    if let Some(subs) = q.get("subquestions").and_then(Value::as_array) {
        for s in subs {
            let sv = s["variable"].as_str().unwrap();
            assert!(
                sv.starts_with(&format!("{var}.")),
                "{sv} is not under {var}"
            );
            check_question(s, schema, settings);
        }
        return;
    }
    let default = &q["default"];
    if default.is_null() {
        return;
    }
    let mut obj = settings;
    let parts: Vec<&str> = var.split('.').collect();
    for p in &parts[..parts.len() - 1] {
        obj = obj
            .entry((*p).to_owned())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .unwrap();
    }
    obj.insert(parts[parts.len() - 1].to_owned(), default.clone());
}

#[test]
fn questions_ui_names_real_settings_with_accepted_defaults() {
    let q = yaml_file(&kubewarden_dir().join("questions-ui.yml"));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../policy-core/settings.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut settings = Map::new();
    let questions = q["questions"].as_array().unwrap();
    assert!(!questions.is_empty());
    for question in questions {
        check_question(question, &schema, &mut settings);
    }
    let settings = Value::Object(settings);
    settings_accepted("questions-ui.yml defaults", &settings);
    // The form's default for the fallback list is the engine's own default.
    assert_eq!(
        settings["controlPlaneNamespaces"],
        schema["properties"]["controlPlaneNamespaces"]["default"]
    );
    // And it offers what the examples set.
    let protect = examples()
        .into_iter()
        .find(|(_, e, _)| e["spec"]["mode"] == "protect")
        .unwrap()
        .1;
    assert_eq!(
        settings["exemptions"],
        protect["spec"]["settings"]["exemptions"]
    );
}
