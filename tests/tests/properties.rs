//! Properties over generated manifests and arbitrary bytes: the engine never panics, is
//! deterministic, its patches are idempotent, and findings do not depend on map key order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cks_policy_tests::cases;
use policy_core::{check, patch, review, Context, Policy, Report};
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
        patch::apply(&mut patched, &r.patch).unwrap();
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
        prop_assert_eq!(&a.results[0].findings.iter().map(|f| (&f.rule, &f.path, &f.message)).collect::<Vec<_>>(),
                        &rev.results[0].findings.iter().map(|f| (&f.rule, &f.path, &f.message)).collect::<Vec<_>>());
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
            vec![serde_json::from_str(text).unwrap()]
        } else {
            policy_core::input::split_documents(text)
                .iter()
                .filter(|c| !policy_core::input::is_blank(c.text))
                .flat_map(|c| policy_core::yaml::parse_documents(c.text, 0))
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
                patch::apply(target, &r.patch).unwrap_or_else(|e| panic!("{}: {e}", case.name));
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
