"""Every golden fixture through the installed wheel, byte for byte."""

import pytest

import cks_policy
from _support import cases

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
    policy.close()
