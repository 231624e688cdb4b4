//! Golden vectors for `fits` (`fixtures/fits/<name>/{pod.yaml,nodes.yaml,pods.yaml?,settings.json?,expected.json}`)
//! (The property that adding a toleration never reduces the nodes a pod fits is in
//! `policy-core/src/scheduling/fit.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;

use policy_core::{fits_report, fits_report_with_pods, Policy};

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
