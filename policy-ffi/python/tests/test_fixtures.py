"""Every golden fixture through the installed wheel, byte for byte."""

import pytest

import cks_policy
from _support import cases, minify, repo_root

CASES = [c for c in cases() if c.expected is not None]


def test_there_are_cases():
    assert CASES, "no fixture cases with expected.json"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case):
    policy = cks_policy.Policy(case.settings)
    got = policy.evaluate_json(case.input, source=case.input_name, context=case.context)
    assert got == case.expected
    report = policy.evaluate(case.input, source=case.input_name, context=case.context)
    assert report.raw == got
    assert report.summary.documents == len(report.results)
    s = report.summary
    assert s.passed + s.warned + s.denied + s.invalid == s.documents
    policy.close()


FITS = sorted(d for d in (repo_root() / "fixtures" / "fits").iterdir() if d.is_dir())


def test_there_are_fits_cases():
    assert FITS, "no fits fixtures"


@pytest.mark.parametrize("case", FITS, ids=[d.name for d in FITS])
def test_fits_fixture(case):
    settings = case / "settings.json"
    policy = cks_policy.Policy(settings.read_bytes() if settings.exists() else None)
    # A case's pods.yaml holds the pods already running.
    pods_file = case / "pods.yaml"
    pods = pods_file.read_bytes() if pods_file.exists() else None
    pod, nodes = (case / "pod.yaml").read_bytes(), (case / "nodes.yaml").read_bytes()
    got = policy.fits_json(pod, nodes, pods)
    assert got == minify((case / "expected.json").read_text("utf-8"))
    assert policy.fits(pod, nodes, pods).raw == got
    policy.close()
