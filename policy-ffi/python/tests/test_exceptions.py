"""Exceptions (issue 13, item 2): a silenced finding is typed as ``suppressed`` and never dropped."""

import json

import cks_policy

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "vendor",
        "namespace": "apps",
        "annotations": {"cks-policy.example.invalid/exceptions": "image-mutable-tag: vendor image"},
    },
    "spec": {"template": {"spec": {"containers": [{"name": "vendor", "image": "nginx:latest"}]}}},
}


def test_annotation_suppresses_and_is_typed():
    report = cks_policy.Policy().evaluate(json.dumps(DEPLOYMENT), source="vendor.json")
    assert report.allowed
    assert report.summary.errors == 0
    assert report.summary.suppressed == 1
    by_rule = {f.rule: f for f in report.results[0].findings}
    assert by_rule["image-mutable-tag"].suppressed == cks_policy.Suppression(
        by="annotation", reason="vendor image"
    )
    assert by_rule["image-digest-required"].suppressed is None


def test_settings_exception_is_typed():
    policy = cks_policy.Policy(
        {"exceptions": {"list": [{"rules": ["image-digest-required"], "names": ["vendor"], "reason": "mirrored"}]}}
    )
    report = policy.evaluate(json.dumps(DEPLOYMENT), source="vendor.json")
    by_rule = {f.rule: f for f in report.results[0].findings}
    assert by_rule["image-digest-required"].suppressed == cks_policy.Suppression(by="settings", reason="mirrored")
    assert report.summary.suppressed == 2


def test_admission_needs_settings_to_honour_the_annotation():
    review = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "u1",
            "operation": "CREATE",
            "userInfo": {"username": "alice"},
            "namespace": "apps",
            "object": DEPLOYMENT,
        },
    }
    assert not cks_policy.Policy().review(review).allowed
    assert cks_policy.Policy({"exceptions": {"annotations": True}}).review(review).allowed


def test_summary_without_suppressed_reads_as_zero():
    report = cks_policy.Policy().evaluate("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    assert report.summary.suppressed == 0
