//! Exceptions beyond the golden vectors: the AdmissionReview answer, ratcheting, typed requests,
//! DELETE, host findings, and the annotation's limits (issue 13, item 2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use policy_core::{
    add_host_findings, check, evaluate, parse_request, review, Context, Finding, Origin, Policy,
    Request, RuleId, Severity, SuppressedBy, EXCEPTION_ANNOTATION,
};
use serde_json::{json, Value};

const KEY: &str = EXCEPTION_ANNOTATION;

fn deployment(image: &str, annotation: Option<&str>) -> Value {
    let mut metadata = json!({"name": "vendor", "namespace": "apps"});
    if let Some(a) = annotation {
        metadata["annotations"] = json!({ KEY: a });
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {"template": {"spec": {"containers": [{"name": "vendor", "image": image}]}}},
    })
}

fn admission_review(operation: &str, object: Value, old: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "u-1",
            "operation": operation,
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "namespace": "apps",
            "name": "vendor",
            "object": object,
            "oldObject": old,
        },
    }))
    .unwrap()
}

fn policy(settings: Value) -> Policy {
    Policy::from_slice(&serde_json::to_vec(&settings).unwrap()).unwrap()
}

#[test]
fn the_admission_answer_ignores_suppressed_findings_only_when_enabled() {
    let annotated = deployment("nginx:latest", Some("image-mutable-tag: vendor image"));
    let bytes = admission_review("CREATE", annotated, Value::Null);

    let default = review(&Policy::default(), &bytes, &Context::default()).unwrap();
    assert!(
        !default.response.allowed,
        "an object must not exempt itself"
    );
    let status = default.response.status.unwrap();
    assert_eq!(status.code, 403);
    assert!(
        status.message.starts_with("image-mutable-tag: "),
        "{status:?}"
    );

    let enabled = review(
        &policy(json!({"exceptions": {"annotations": true}})),
        &bytes,
        &Context::default(),
    )
    .unwrap();
    assert!(enabled.response.allowed);
    assert!(enabled.response.status.is_none());
    // The suppressed error is neither a denial nor a warning; the other rule still warns.
    assert_eq!(enabled.response.warnings.len(), 1);
    assert!(enabled.response.warnings[0].starts_with("image-digest-required: "));
}

#[test]
fn a_suppressed_warning_is_not_an_admission_warning() {
    let settings = json!({"exceptions": {"list": [
        {"rules": ["image-digest-required"], "names": ["vendor"], "reason": "mirrored"}
    ]}});
    let bytes = admission_review(
        "CREATE",
        deployment("registry.example.com/app:1.2", None),
        Value::Null,
    );
    let r = review(&policy(settings), &bytes, &Context::default()).unwrap();
    assert!(r.response.allowed);
    assert!(r.response.warnings.is_empty(), "{:?}", r.response.warnings);
}

#[test]
fn ratcheting_and_exceptions_both_mark_a_finding() {
    // The old object already had the mutable tag, and the new one adds the annotation: the
    // finding is both preexisting and suppressed.
    let bytes = admission_review(
        "UPDATE",
        deployment("nginx:latest", Some("image-mutable-tag: vendor image")),
        deployment("nginx:latest", None),
    );
    let p = policy(json!({"exceptions": {"annotations": true}}));
    let request = parse_request(&p, &bytes).unwrap();
    let v = evaluate(&p, &request, &Context::default());
    let f = v
        .findings()
        .iter()
        .find(|f| f.rule() == RuleId::ImageMutableTag)
        .unwrap();
    assert!(f.preexisting());
    assert_eq!(f.suppressed().unwrap().by, SuppressedBy::Annotation);
    assert!(v.allowed());
}

#[test]
fn a_typed_request_is_an_admission_request_unless_it_says_manifest() {
    let text = serde_json::to_vec(&deployment(
        "nginx:latest",
        Some("image-mutable-tag: vendor image"),
    ))
    .unwrap();
    let p = Policy::default();
    // Through `check` the manifest honours its annotation.
    let report = check(&p, None, &text, &Context::default());
    assert!(report.results[0].allowed());
    assert_eq!(report.summary.suppressed, 1);
    assert_eq!(report.summary.errors, 0);

    let bytes = admission_review(
        "CREATE",
        serde_json::from_slice(&text).unwrap(),
        Value::Null,
    );
    let object = parse_request(&p, &bytes).unwrap().object.unwrap();
    let mut request = Request::create(object);
    assert_eq!(request.origin, Origin::AdmissionRequest);
    assert!(!evaluate(&p, &request, &Context::default()).allowed());
    request.origin = Origin::Manifest;
    assert!(evaluate(&p, &request, &Context::default()).allowed());
}

#[test]
fn a_change_rule_is_silenced_by_settings_never_by_the_annotation() {
    // `control-plane-namespace` is a change rule: even enabled, an annotation (here on the
    // object a DELETE judges, `oldObject`) cannot silence it; a settings entry can.
    let mut old = deployment("nginx:1.25", Some("control-plane-namespace: mine"));
    old["metadata"]["namespace"] = json!("kube-system");
    let bytes = admission_review("DELETE", Value::Null, old.clone());
    let enabled = json!({"exceptions": {"annotations": true}});
    let v = evaluate(
        &policy(enabled.clone()),
        &parse_request(&policy(enabled.clone()), &bytes).unwrap(),
        &Context::default(),
    );
    assert!(!v.allowed(), "{:?}", v.findings());
    assert!(v.findings().iter().all(|f| f.suppressed().is_none()));

    let settings = json!({"exceptions": {"list": [{
        "rules": ["control-plane-namespace"], "namespaces": ["kube-system"],
        "names": ["vendor"], "reason": "decommissioning the vendor agent"
    }]}});
    let p = policy(settings);
    let v = evaluate(&p, &parse_request(&p, &bytes).unwrap(), &Context::default());
    assert!(v.allowed(), "{:?}", v.findings());
    let f = v
        .findings()
        .iter()
        .find(|f| f.rule() == RuleId::ControlPlaneNamespace)
        .unwrap();
    assert_eq!(
        f.suppressed().unwrap().reason,
        "decommissioning the vendor agent"
    );
}

#[test]
fn host_findings_are_silenced_like_the_rule_s_own() {
    let settings = json!({"exceptions": {"list": [
        {"rules": ["pin-digests"], "kinds": ["Deployment"], "reason": "resolved at deploy time"}
    ]}});
    let p = policy(settings);
    let bytes = admission_review(
        "CREATE",
        deployment("registry.example.com/app@sha256:3f5e8b5c7ab2740c0f7b1e3e8d3d7b5f0c1a2b3c4d5e6f7081920a1b2c3d4e5f", None),
        Value::Null,
    );
    let request = parse_request(&p, &bytes).unwrap();
    let mut v = evaluate(&p, &request, &Context::default());
    assert!(v.allowed());
    let failed = |rule| Finding::new(rule, Severity::Error, "", "lookup failed");
    add_host_findings(&p, &request, &mut v, vec![failed(RuleId::PinDigests)]);
    assert!(
        v.allowed(),
        "an excepted rule's failed lookup must not deny"
    );
    assert_eq!(
        v.findings().last().unwrap().suppressed().unwrap().by,
        SuppressedBy::Settings
    );
    add_host_findings(
        &p,
        &request,
        &mut v,
        vec![failed(RuleId::ControlPlaneNamespace)],
    );
    assert!(!v.allowed(), "another rule's failed lookup still denies");
}

#[test]
fn exceptions_match_by_namespace_kind_and_name_globs() {
    let settings = json!({"exceptions": {"list": [{
        "rules": ["image-mutable-tag"],
        "namespaces": ["team-*"], "kinds": ["Deploy*"], "names": ["web-?"],
        "reason": "r"
    }]}});
    let p = policy(settings);
    let judge = |namespace: Option<&str>, kind: &str, name: &str| {
        let mut o = deployment("nginx:latest", None);
        o["kind"] = json!(kind);
        o["metadata"]["name"] = json!(name);
        match namespace {
            Some(n) => o["metadata"]["namespace"] = json!(n),
            None => {
                o["metadata"].as_object_mut().unwrap().remove("namespace");
            }
        }
        let report = check(
            &p,
            None,
            &serde_json::to_vec(&o).unwrap(),
            &Context::default(),
        );
        report.summary.suppressed == 1
    };
    assert!(judge(Some("team-a"), "Deployment", "web-1"));
    assert!(!judge(Some("team-a"), "Deployment", "web-10"));
    assert!(!judge(Some("apps"), "Deployment", "web-1"));
    assert!(!judge(Some("team-a"), "StatefulSet", "web-1"));
    assert!(!judge(None, "Deployment", "web-1"));
}

#[test]
fn summary_counts_suppressed_apart_and_omits_zero() {
    let report = check(
        &Policy::default(),
        None,
        &serde_json::to_vec(&deployment(
            "nginx:latest",
            Some("image-mutable-tag,image-digest-required: r"),
        ))
        .unwrap(),
        &Context::default(),
    );
    let json: Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(
        json["summary"],
        json!({"documents": 1, "errors": 0, "warnings": 0, "infos": 0, "passed": 1, "warned": 0, "denied": 0, "invalid": 0, "suppressed": 2})
    );
    assert!(!report.has_errors());
    let clean = check(
        &Policy::default(),
        None,
        &serde_json::to_vec(&deployment("nginx:latest", None)).unwrap(),
        &Context::default(),
    );
    let json: Value = serde_json::from_str(&clean.to_json()).unwrap();
    assert!(json["summary"].get("suppressed").is_none());
    assert!(json["results"][0]["findings"][0]
        .get("suppressed")
        .is_none());
}
