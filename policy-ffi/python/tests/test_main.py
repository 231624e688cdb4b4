"""``python -m cks_policy``: the library's report JSON and the CLI's exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import cks_policy

BAD = b"""apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - {name: web, image: nginx}
"""

GOOD = b"""apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: web
    image: registry.example.com/web@sha256:0000000000000000000000000000000000000000000000000000000000000000
"""


def run(*args, stdin=b"", cwd=None):
    # Never the tests' own folder as cwd: `-m` puts cwd first on sys.path, and the source
    # folder there (without the built native module) would shadow the installed wheel.
    cwd = cwd or Path(__file__).resolve().anchor
    return subprocess.run(
        [sys.executable, "-m", "cks_policy", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
    )


def test_check_prints_the_library_report_and_exits_1_on_errors(tmp_path: Path):
    (tmp_path / "bad.yaml").write_bytes(BAD)
    p = run("check", "bad.yaml", cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    assert p.stdout.decode() == cks_policy.Policy().evaluate_json(BAD, source="bad.yaml") + "\n"
    report = json.loads(p.stdout)
    assert report["results"][0]["source"] == "bad.yaml"
    assert any(f["rule"] == "image-mutable-tag" for f in report["results"][0]["findings"])


def test_check_passes_exit_0(tmp_path: Path):
    (tmp_path / "good.yaml").write_bytes(GOOD)
    p = run("check", str(tmp_path / "good.yaml"))
    assert p.returncode == 0, p.stdout
    assert json.loads(p.stdout)["summary"]["errors"] == 0


def test_stdin_and_settings(tmp_path: Path):
    (tmp_path / "warn.yaml").write_text("mode: warn\n")
    p = run("check", "--settings", str(tmp_path / "warn.yaml"), "-", stdin=BAD)
    assert p.returncode == 0, p.stdout
    report = json.loads(p.stdout)
    assert report["results"][0]["source"] == "-" and report["summary"]["warnings"] >= 1


def test_audit(tmp_path: Path):
    node = (
        b"apiVersion: v1\nkind: Node\nmetadata:\n  name: g1\n"
        b"  labels: {node.coreweave.cloud/state: production, node.coreweave.cloud/reserved: org-abc}\n"
    )
    (tmp_path / "node.yaml").write_bytes(node)
    assert run("check", str(tmp_path / "node.yaml")).returncode == 1
    p = run("audit", str(tmp_path / "node.yaml"))
    assert p.returncode == 0, p.stdout
    assert json.loads(p.stdout)["results"][0]["existing"] is True


def test_usage_and_io_errors_exit_2(tmp_path: Path):
    p = run("check", str(tmp_path / "missing.yaml"))
    assert p.returncode == 2 and b"missing.yaml" in p.stderr and p.stdout == b""
    assert run().returncode == 2
    assert run("lint", "x.yaml").returncode == 2
    (tmp_path / "bad-settings.yaml").write_text("mdoe: warn\n")
    p = run("check", "--settings", str(tmp_path / "bad-settings.yaml"), "-", stdin=BAD)
    assert p.returncode == 2 and b"CKS_POLICY_INVALID_SETTINGS" in p.stderr and b"/mdoe" in p.stderr
