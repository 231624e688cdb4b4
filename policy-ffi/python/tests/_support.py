"""Helpers shared by the tests: the golden fixture cases and bench inputs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

TIMINGS: List[str] = []


def repo_root() -> Path:
    """Walks up from this folder to the one holding fixtures/cases."""
    here = Path(__file__).resolve().parent
    for d in [here, *here.parents]:
        if (d / "fixtures" / "cases").is_dir():
            return d
    raise RuntimeError("fixtures/cases not found above the tests")


def minify(pretty: str) -> str:
    """Removes whitespace outside strings (the inverse of pretty printing; Go's json.Compact)."""
    out = []
    in_str = esc = False
    for c in pretty:
        if in_str:
            out.append(c)
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif not c.isspace():
            out.append(c)
    return "".join(out)


@dataclass
class Case:
    name: str
    input_name: str
    input: bytes
    settings: bytes
    context: bytes
    expected: Optional[str]


def cases() -> List[Case]:
    root = repo_root() / "fixtures" / "cases"
    out = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        input_name = next((n for n in ("input.yaml", "input.json") if (d / n).exists()), None)
        if input_name is None:
            raise RuntimeError(f"{d} has no input.yaml or input.json")
        read = lambda n: (d / n).read_bytes() if (d / n).exists() else b"{}"  # noqa: E731
        exp = d / "expected.json"
        out.append(
            Case(
                name=d.name,
                input_name=input_name,
                input=(d / input_name).read_bytes(),
                settings=read("settings.json"),
                context=read("context.json"),
                expected=minify(exp.read_text("utf-8")) if exp.exists() else None,
            )
        )
    return out


def bench_inputs() -> List[Path]:
    d = os.environ.get("CKS_BENCH_INPUTS")
    folder = Path(d) if d else repo_root().parent / "shared" / "bench-inputs"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []
