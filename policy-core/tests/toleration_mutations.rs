//! Properties of the toleration mutations (`cpu-compute-toleration` on Pods,
//! `sunk-daemonset-tolerations` on DaemonSets): applying the patch with
//! `policy_core::apply_patch` and judging the result again yields no patch, the user's
//! tolerations are kept as written (the patch only appends), and the mutation's finding is gone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use policy_core::{apply_patch, check, Context, Policy, Report};
use proptest::prelude::*;
use serde_json::{json, Value};

const IMG: &str = "registry.example.com/app@sha256:3f5e8b5c7ab2740c0f7b1e3e8d3d7b5f0c1a2b3c4d5e6f7081920a1b2c3d4e5f";

fn toleration() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"operator": "Exists"})),
        Just(json!({"operator": "Exists", "effect": "NoExecute"})),
        Just(json!({"key": "is_cpu_compute", "operator": "Exists", "effect": "NoSchedule"})),
        Just(json!({"key": "is_cpu_compute", "operator": "Exists", "effect": "NoExecute"})),
        Just(json!({"key": "is_cpu_compute", "operator": "Equal", "value": "x"})),
        Just(json!({"key": "is_cpu_compute"})),
        Just(json!({"key": "is_gpu", "operator": "Exists"})),
        Just(
            json!({"key": "is_gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"})
        ),
        Just(json!({"key": "sunk.coreweave.com/lock", "operator": "Equal", "value": "true"})),
        Just(json!({"key": "sunk.coreweave.com/lock", "operator": "Equal", "value": "True"})),
        Just(
            json!({"key": "node.coreweave.cloud/reserved", "operator": "Equal", "value": "3a7bd3e2"})
        ),
        Just(
            json!({"key": "node.coreweave.cloud/reserved", "operator": "Equal", "value": "3a7bd3e2", "effect": "NoExecute"})
        ),
        Just(json!({"key": "node.coreweave.cloud/reserved", "operator": "Exists"})),
        Just(
            json!({"key": "example.com/team", "operator": "Equal", "value": "a", "effect": "NoSchedule"})
        ),
    ]
}

fn resources() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop_oneof![
        Just(json!({"limits": {"nvidia.com/gpu": "1"}})),
        Just(json!({"limits": {"nvidia.com/gpu": "0"}})),
        Just(json!({"requests": {"sunk.coreweave.com/accelerator": "8"}})),
        Just(json!({"limits": {"rdma/ib": "1", "cpu": "2"}})),
        Just(json!({"requests": {"cpu": "500m", "memory": "1Gi"}})),
    ])
}

fn pod_spec() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(resources(), 1..3),
        prop::option::of(resources()),
        prop::option::of(prop::collection::vec(toleration(), 0..4)),
        any::<bool>(),
    )
        .prop_map(|(containers, init, tolerations, claims)| {
            let ctr = |name: String, r: &Option<Value>| {
                let mut c = json!({"name": name, "image": IMG});
                if let Some(r) = r {
                    c["resources"] = r.clone();
                }
                c
            };
            let cs: Vec<Value> = containers
                .iter()
                .enumerate()
                .map(|(i, r)| ctr(format!("c{i}"), r))
                .collect();
            let mut spec = json!({ "containers": cs });
            if let Some(r) = init {
                spec["initContainers"] = json!([ctr("init".into(), &r)]);
            }
            if let Some(t) = tolerations {
                spec["tolerations"] = Value::Array(t);
            }
            if claims {
                spec["resourceClaims"] =
                    json!([{"name": "gpu", "resourceClaimTemplateName": "gpu"}]);
            }
            spec
        })
}

fn object() -> impl Strategy<Value = Value> {
    (any::<bool>(), pod_spec()).prop_map(|(pod, spec)| {
        if pod {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
        } else {
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d"},
                   "spec": {"selector": {"matchLabels": {"app": "d"}},
                            "template": {"metadata": {"labels": {"app": "d"}}, "spec": spec}}})
        }
    })
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        Just(r#"{}"#),
        Just(r#"{"sunk": {"enabled": true}}"#),
        Just(r#"{"sunk": {"enabled": true}, "orgIdHash": "3a7bd3e2"}"#),
        Just(r#"{"accelerators": {"draClaimsAreAccelerators": false}}"#),
    ]
    .prop_map(|s| Policy::from_slice(s.as_bytes()).unwrap())
}

fn judge(policy: &Policy, doc: &Value) -> Report {
    check(
        policy,
        None,
        serde_json::to_string(doc).unwrap().as_bytes(),
        &Context::default(),
    )
}

fn tolerations(doc: &Value) -> Vec<Value> {
    let p = if doc["kind"] == "Pod" {
        "/spec/tolerations"
    } else {
        "/spec/template/spec/tolerations"
    };
    doc.pointer(p)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn mutated_objects_yield_no_further_patch(doc in object(), policy in policy()) {
        let first = judge(&policy, &doc);
        let mut patched = doc.clone();
        apply_patch(&mut patched, &first.results[0].patch).unwrap();

        let second = judge(&policy, &patched);
        prop_assert!(second.results[0].patch.is_empty(), "second patch {:?} for {}", second.results[0].patch, doc);
        for rule in ["cpu-compute-toleration", "sunk-daemonset-tolerations"] {
            let before = first.results[0].findings().iter().filter(|f| f.rule() == rule).count();
            let after: Vec<_> = second.results[0].findings().iter().filter(|f| f.rule() == rule).collect();
            // The SUNK finding for the reserved toleration without `orgIdHash` has no patch and stays.
            prop_assert!(after.iter().all(|f| f.message().contains("orgIdHash")), "{rule} after patch: {after:?}");
            prop_assert!(after.len() <= before);
        }

        // The patch only appends: the user's tolerations are a prefix of the result, untouched.
        let (old, new) = (tolerations(&doc), tolerations(&patched));
        prop_assert!(new.len() >= old.len());
        prop_assert_eq!(&new[..old.len()], &old[..]);
        // Everything else in the object is as the user wrote it.
        let strip = |mut v: Value| {
            let p = if v["kind"] == "Pod" { "/spec" } else { "/spec/template/spec" };
            if let Some(s) = v.pointer_mut(p).and_then(Value::as_object_mut) {
                s.remove("tolerations");
            }
            v
        };
        prop_assert_eq!(strip(doc.clone()), strip(patched.clone()));
    }
}

#[test]
fn pod_without_tolerations_gets_the_list_created() {
    let doc = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                     "spec": {"containers": [{"name": "c", "image": IMG}]}});
    let r = judge(&Policy::default(), &doc);
    let p = serde_json::to_value(&r.results[0].patch).unwrap();
    assert_eq!(
        p,
        json!([{"op": "add", "path": "/spec/tolerations",
                "value": [{"key": "is_cpu_compute", "operator": "Exists", "effect": "NoSchedule"}]}])
    );
}
