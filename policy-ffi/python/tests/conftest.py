"""pytest wiring: makes _support importable (tests import the installed wheel, not the
source folder, so only this tests folder goes on sys.path) and prints the timing report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import TIMINGS  # noqa: E402


@pytest.fixture
def timings() -> List[str]:
    return TIMINGS


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("cks_policy timing (reported, not asserted)")
        for line in TIMINGS:
            terminalreporter.write_line(line)
