"""The Python API: settings errors, typed results, review, fits, lifecycle."""

import json
from pathlib import Path

import pytest

import cks_policy

POD = """apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - {name: web, image: nginx}
"""

REVIEW = {
    "apiVersion": "admission.k8s.io/v1",
    "kind": "AdmissionReview",
    "request": {
        "uid": "py-uid",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "operation": "CREATE",
        "userInfo": {"username": "alice"},
        "object": {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
        },
    },
}


def test_imports_the_installed_wheel():
    source = Path(__file__).resolve().parent.parent / "cks_policy" / "__init__.py"
    assert Path(cks_policy.__file__).resolve() != source, cks_policy.__file__
    assert "site-packages" in cks_policy.__file__
    assert cks_policy.__version__.count(".") == 2


def test_bad_settings_list_every_problem():
    with pytest.raises(cks_policy.PolicyError) as e:
        cks_policy.Policy({"mdoe": "enforce", "images": {"allow": ["[bad"]}})
    assert e.value.code == "CKS_POLICY_INVALID_SETTINGS"
    assert [p.path for p in e.value.problems] == ["/mdoe", "/images/allow/0"]
    assert all(p.message for p in e.value.problems)
    with pytest.raises(cks_policy.PolicyError):
        cks_policy.Policy("{")


def test_settings_forms():
    for s in (None, "", "{}", b"mode: warn\n", {"mode": "warn"}):
        cks_policy.Policy(s).close()


def test_evaluate_typed():
    policy = cks_policy.Policy()
    report = policy.evaluate(POD, source="pod.yaml")
    assert isinstance(report, cks_policy.Report)
    (result,) = report.results
    assert isinstance(result, cks_policy.Result)
    assert result.source == "pod.yaml" and result.kind == "Pod" and result.name == "web"
    assert not result.allowed and not report.allowed
    f = next(f for f in result.findings if f.rule == "image-mutable-tag")
    assert isinstance(f, cks_policy.Finding)
    assert (f.severity, f.path) == ("error", "/spec/containers/0/image")
    assert all(isinstance(p, cks_policy.PatchOp) for p in result.patch)
    assert json.loads(report.raw)["summary"]["documents"] == 1


def test_evaluate_dict_and_no_source():
    policy = cks_policy.Policy()
    report = policy.evaluate(REVIEW["request"]["object"])
    assert report.results[0].source is None
    assert report.results[0].kind == "Pod"


def test_bad_context():
    with pytest.raises(cks_policy.PolicyError) as e:
        cks_policy.Policy().evaluate(POD, context={"nope": 1})
    assert e.value.code == "CKS_POLICY_INVALID_CONTEXT"


def test_source_with_nul_is_refused():
    with pytest.raises(ValueError):
        cks_policy.Policy().evaluate(POD, source="a\0b")


def test_review():
    policy = cks_policy.Policy()
    resp = policy.review(REVIEW, context={"namespaces": {"default": {}}})
    assert isinstance(resp, cks_policy.ReviewResponse)
    assert resp.uid == "py-uid" and resp.allowed is False
    assert resp.status["message"].startswith("image-")
    assert json.loads(resp.raw)["kind"] == "AdmissionReview"
    with pytest.raises(cks_policy.PolicyError) as e:
        policy.review("[1]")
    assert e.value.code == "CKS_POLICY_INVALID_INPUT" and e.value.problems


def test_fits():
    nodes = (
        "apiVersion: v1\nkind: Node\nmetadata: {name: cpu-1}\nspec:\n"
        "  taints:\n  - {key: is_cpu_compute, effect: NoSchedule}\n"
        "---\napiVersion: v1\nkind: Node\nmetadata: {name: db-1}\nspec:\n"
        "  taints:\n  - {key: dedicated, value: db, effect: NoSchedule}\n"
    )
    policy = cks_policy.Policy()
    report = policy.fits(POD, nodes)
    assert isinstance(report, cks_policy.FitsReport)
    assert report.pod == "web" and [n.name for n in report.nodes] == ["cpu-1", "db-1"]
    # Judged as admitted: the is_cpu_compute toleration admission adds lets it onto cpu-1.
    cpu, db = report.nodes
    assert cpu.fits and not db.fits and db.reasons[0].kind == "taint"
    assert len(report.admission_patch) == 1
    with pytest.raises(cks_policy.PolicyError) as e:
        policy.fits(POD, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    assert e.value.code == "CKS_POLICY_INVALID_INPUT"
    assert "nodes document 0" in e.value.problems[0].message


def test_rules_and_schema():
    rules = cks_policy.rules()
    assert rules[0]["id"] == "input-invalid"
    assert "properties" in cks_policy.settings_schema()


def test_close_is_idempotent_and_final():
    policy = cks_policy.Policy()
    with policy:
        policy.evaluate(POD)
    policy.close()
    with pytest.raises(cks_policy.PolicyError):
        policy.evaluate(POD)


def test_reports_with_unknown_fields_are_read():
    """A newer engine may add fields at any level; the readers keep the ones they know and
    ignore the rest, as Go's encoding/json does (policy-ffi/go: TestUnknownFieldsDecode)."""
    extra = {"someFutureField": {"x": [1]}}
    raw = json.dumps(
        {
            "summary": {"documents": 1, "errors": 1, "warnings": 0, "infos": 0, **extra},
            "results": [
                {
                    "source": "pod.yaml",
                    "document": 0,
                    "kind": "Pod",
                    "namespace": None,
                    "name": "web",
                    "allowed": False,
                    "findings": [
                        {
                            "rule": "image-mutable-tag",
                            "severity": "error",
                            "path": "/spec/containers/0/image",
                            "message": "m",
                            "preexisting": True,
                            **extra,
                        }
                    ],
                    "patch": [{"op": "add", "path": "/spec/tolerations", "value": [], **extra}],
                    **extra,
                }
            ],
            **extra,
        }
    )
    report = cks_policy._report(raw)
    assert report.summary == cks_policy.Summary(documents=1, errors=1, warnings=0, infos=0)
    (r,) = report.results
    assert (r.source, r.kind, r.name, r.allowed) == ("pod.yaml", "Pod", "web", False)
    (f,) = r.findings
    assert f.preexisting is True and f.rule == "image-mutable-tag" and f.severity == "error"
    assert r.patch == [cks_policy.PatchOp("add", "/spec/tolerations", [])]
    assert report.raw == raw

    review = cks_policy._review(
        json.dumps(
            {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "response": {"uid": "u", "allowed": True, "warnings": ["w"], **extra},
                **extra,
            }
        )
    )
    assert (review.uid, review.allowed, review.warnings) == ("u", True, ["w"])

    fits = cks_policy._fits(
        json.dumps(
            {
                "pod": "web",
                "nodes": [
                    {
                        "name": "n1",
                        "fits": False,
                        "reasons": [{"kind": "taint", "message": "m", **extra}],
                        **extra,
                    }
                ],
                **extra,
            }
        )
    )
    assert fits.nodes == [cks_policy.NodeFit("n1", False, [cks_policy.FitReason("taint", "m")])]


def test_unknown_fields_in_a_real_report_round_trip():
    """The same through a report the library produced, with a field added at every level."""
    raw = cks_policy.Policy().evaluate_json(POD, source="pod.yaml")
    v = json.loads(raw)
    v["later"] = 1
    v["summary"]["later"] = 1
    for r in v["results"]:
        r["later"] = 1
        for item in r["findings"] + r["patch"]:
            item["later"] = 1
    assert v["results"][0]["findings"] and v["results"][0]["patch"]
    assert cks_policy._report(json.dumps(v)).results == cks_policy._report(raw).results


def test_ships_py_typed():
    """PEP 561: the wheel carries the marker, so type checkers read the package's annotations."""
    assert (Path(cks_policy.__file__).parent / "py.typed").is_file()


def test_audit_judges_existing_state():
    node = (
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: g1\n"
        "  labels: {node.coreweave.cloud/state: production, node.coreweave.cloud/reserved: org-abc}\n"
    )
    policy = cks_policy.Policy()
    audited = policy.audit(node)
    (r,) = audited.results
    assert r.existing and r.allowed and r.findings == []
    assert not policy.evaluate(node).results[0].allowed
    policy.close()
