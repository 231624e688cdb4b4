//! Golden vectors for `fits` (`fixtures/fits/<name>/{pod.yaml,nodes.yaml,pods.yaml?,settings.json?,expected.json}`)
//! and the property that adding a toleration never reduces the set of nodes a pod fits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;

use k8s_openapi::api::core::v1::{NodeSpec, PodSpec, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use policy_core::scheduling::fit::{reasons, NodeView};
use policy_core::{fits_report, fits_report_with_pods, Policy};
use proptest::prelude::*;

#[test]
fn fits_golden_vectors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/fits");
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let d = e.unwrap().path();
        let settings = std::fs::read(d.join("settings.json")).unwrap_or_default();
        let policy = Policy::from_slice(&settings).unwrap();
        let pod = std::fs::read(d.join("pod.yaml")).unwrap();
        let nodes = std::fs::read(d.join("nodes.yaml")).unwrap();
        // The pods already running, when the case has them.
        let pods = std::fs::read(d.join("pods.yaml")).ok();
        let report = fits_report_with_pods(&policy, &pod, &nodes, pods.as_deref()).unwrap();
        let mut got = serde_json::to_string_pretty(&report).unwrap();
        got.push('\n');
        let path = d.join("expected.json");
        if update {
            std::fs::write(&path, &got).unwrap();
        }
        assert_eq!(
            got,
            std::fs::read_to_string(&path).unwrap(),
            "{}",
            d.display()
        );
        n += 1;
    }
    assert!(n >= 4);
}

#[test]
fn fits_errors_name_the_document() {
    let policy = Policy::default();
    let pod = b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n";
    let err = fits_report(&policy, pod, b"apiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n").unwrap_err();
    assert!(err.to_string().contains("nodes document 1"), "{err}");
    let err = fits_report(&policy, b"kind: [", b"").unwrap_err();
    assert!(err.to_string().starts_with("pod:"), "{err}");
    let err = fits_report(
        &policy,
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        b"",
    )
    .unwrap_err();
    assert!(err.to_string().contains("no Pod"), "{err}");
}

fn taint() -> impl Strategy<Value = Taint> {
    (
        prop_oneof![
            Just("is_cpu_compute"),
            Just("is_gpu"),
            Just("sunk.coreweave.com/lock"),
            Just("a")
        ],
        prop::option::of(prop_oneof![Just("true"), Just(""), Just("x")]),
        prop_oneof![
            Just("NoSchedule"),
            Just("PreferNoSchedule"),
            Just("NoExecute")
        ],
    )
        .prop_map(|(k, v, e)| Taint {
            key: k.into(),
            value: v.map(Into::into),
            effect: e.into(),
            time_added: None,
        })
}

fn toleration() -> impl Strategy<Value = Toleration> {
    (
        prop_oneof![
            Just(""),
            Just("is_cpu_compute"),
            Just("is_gpu"),
            Just("sunk.coreweave.com/lock"),
            Just("a")
        ],
        prop::option::of(prop_oneof![Just("Exists"), Just("Equal"), Just("Gt")]),
        prop::option::of(prop_oneof![Just("true"), Just(""), Just("x")]),
        prop::option::of(prop_oneof![
            Just("NoSchedule"),
            Just("PreferNoSchedule"),
            Just("NoExecute")
        ]),
        prop::option::of(0i64..100),
    )
        .prop_map(|(k, op, v, e, s)| Toleration {
            key: (!k.is_empty()).then(|| k.into()),
            operator: op.map(Into::into),
            value: v.map(Into::into),
            effect: e.map(Into::into),
            toleration_seconds: s,
        })
}

proptest! {
    #[test]
    fn adding_a_toleration_never_reduces_fitting_nodes(
        nodes in prop::collection::vec((prop::collection::vec(taint(), 0..4), any::<bool>()), 1..6),
        tolerations in prop::collection::vec(toleration(), 0..3),
        extra in toleration(),
    ) {
        let meta = ObjectMeta { name: Some("n".into()), ..ObjectMeta::default() };
        let specs: Vec<NodeSpec> = nodes.into_iter().map(|(taints, cordon)| NodeSpec {
            taints: Some(taints), unschedulable: Some(cordon), ..NodeSpec::default()
        }).collect();
        let before = PodSpec { tolerations: Some(tolerations.clone()), ..PodSpec::default() };
        let mut more = tolerations;
        more.push(extra);
        let after = PodSpec { tolerations: Some(more), ..PodSpec::default() };
        for spec in &specs {
            let view = NodeView { metadata: &meta, spec: Some(spec) };
            let fit_before = reasons(&before, view, None).is_empty();
            let fit_after = reasons(&after, view, None).is_empty();
            prop_assert!(!fit_before || fit_after, "a toleration removed a fitting node: {spec:?}");
        }
    }
}
