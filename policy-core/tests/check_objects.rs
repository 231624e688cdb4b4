//! `check_objects`: the objects the reader built, one per result, for the kubectl differential
//! test (`e2e/kubectl-diff`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use policy_core::{check, check_objects, Context, Policy};

fn read(text: &str) -> (policy_core::Report, Vec<Option<policy_core::Object>>) {
    let policy = Policy::from_slice(b"").unwrap();
    let (report, objects) = check_objects(
        &policy,
        Some("x.yaml"),
        text.as_bytes(),
        &Context::default(),
    );
    // The same report as `check`: keeping the objects changes nothing else.
    assert_eq!(
        report,
        check(
            &policy,
            Some("x.yaml"),
            text.as_bytes(),
            &Context::default()
        )
    );
    assert_eq!(report.results.len(), objects.len());
    (report, objects)
}

#[test]
fn one_object_per_result_in_step() {
    let (report, objects) = read(concat!(
        "apiVersion: v1\nkind: List\nitems:\n",
        "- {apiVersion: v1, kind: Pod, metadata: {name: a, labels: {x: z}}, spec: {containers: [{name: c, image: nginx}]}}\n",
        "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: b}, spec: {template: {spec: {containers: [{name: d, image: busybox}]}}}}\n",
        "---\nkind: [\n",
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}\n",
    ));
    let names: Vec<_> = objects
        .iter()
        .map(|o| {
            o.as_ref()
                .map(|o| (o.kind.as_str(), o.name().unwrap_or("")))
        })
        .collect();
    assert_eq!(
        names,
        [
            Some(("Pod", "a")),
            Some(("Deployment", "b")),
            None,
            Some(("ConfigMap", "c"))
        ]
    );
    assert_eq!(report.results[2].kind, None);
    let a = objects[0].as_ref().unwrap();
    assert_eq!(a.labels().unwrap()["x"], "z");
    assert_eq!(a.pods[0].spec.containers[0].image.as_deref(), Some("nginx"));
    let b = objects[1].as_ref().unwrap();
    assert_eq!(b.pods[0].pointer, "/spec/template");
    assert_eq!(
        b.pods[0].spec.containers[0].image.as_deref(),
        Some("busybox")
    );
    assert_eq!(objects[3].as_ref().unwrap().namespace(), Some("ns"));
}

#[test]
fn json_duplicates_are_read_again_without_a_stale_object() {
    // Duplicate keys send JSON text through the tree reader a second time: the objects of the
    // first pass must not stay behind.
    let (report, objects) = read(
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"},"spec":{"containers":[]}}"#,
    );
    assert_eq!(report.results.len(), 1);
    assert_eq!(objects[0].as_ref().unwrap().name(), Some("b"));
}

#[test]
fn an_admission_review_has_no_manifest_object() {
    let (report, objects) = read(concat!(
        "apiVersion: admission.k8s.io/v1\nkind: AdmissionReview\nrequest:\n  uid: u\n  operation: CREATE\n",
        "  object: {apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: c, image: nginx}]}}\n",
    ));
    assert_eq!(report.results[0].kind.as_deref(), Some("Pod"));
    assert_eq!(objects, [None]);
}
