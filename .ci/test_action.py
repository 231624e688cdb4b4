"""Runs the steps of the repository's action.yml as the GitHub Actions runner runs a composite
action, without GitHub, and checks what they do (.ci/test-action.sh sets up PyYAML and calls it).

What the runner does and this reproduces (https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax
"runs for composite actions", and .../reference/workflows-and-actions/expressions):
- every `run:` step is written to a file and run as `bash --noprofile --norc -eo pipefail FILE`
  (the documented command for `shell: bash`), in `working-directory` or GITHUB_WORKSPACE;
- `${{ … }}` expressions in `run`, `env`, `with`, `working-directory` and the action's outputs are
  evaluated against the `inputs`, `github`, `runner` and `steps` contexts; composite actions get
  no INPUT_* variables, so a step sees an input only through its own `env:`;
- a step's `if:` without a status function is `success() && (…)`; a failed step skips the rest
  unless their `if:` asks for `always()`/`failure()`;
- GITHUB_OUTPUT (`name=value` and `name<<EOF` blocks), GITHUB_ENV, GITHUB_PATH and
  GITHUB_STEP_SUMMARY are fresh files per step, read back after it;
- `uses:` steps are not run (no network, no other actions): each is recorded with whether its
  `if:` holds and its evaluated `with:`, so the test asserts exactly which were skipped.

Usage: python .ci/test_action.py   (needs cargo; CARGO_TARGET_DIR is honoured and shared)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent

# --- expressions -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\.\*)*))"
)


class ExprError(Exception):
    """An expression this runner does not understand: fail loudly rather than guess."""


def _tokens(expr: str) -> List[Tuple[str, str]]:
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ExprError(f"cannot parse {expr!r} at {pos}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(expr) and expr[pos].isspace():
            pos += 1
    return out


def _truthy(v: Any) -> bool:
    return v not in (None, False, 0, "", 0.0)


def _eq(a: Any, b: Any) -> bool:
    # GitHub compares strings case-insensitively; different types coerce to numbers, which for
    # the string/string and null cases this action uses reduces to this.
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


class _Parser:
    """Recursive descent over GitHub's precedence: `||` < `&&` < `==`/`!=` < `!` < primary."""

    def __init__(self, tokens: List[Tuple[str, str]], ctx: Dict[str, Any], status: Dict[str, bool]):
        self.t, self.i, self.ctx, self.status = tokens, 0, ctx, status

    def peek(self) -> Optional[Tuple[str, str]]:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, value: Optional[str] = None) -> Tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ExprError(f"expected {value or 'a token'}, found {tok}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        v = self.or_()
        if self.peek() is not None:
            raise ExprError(f"unexpected {self.peek()}")
        return v

    def or_(self) -> Any:
        v = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            rhs = self.and_()
            v = v if _truthy(v) else rhs
        return v

    def and_(self) -> Any:
        v = self.cmp()
        while self.peek() == ("op", "&&"):
            self.take()
            rhs = self.cmp()
            v = rhs if _truthy(v) else v
        return v

    def cmp(self) -> Any:
        v = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            rhs = self.unary()
            v = _eq(v, rhs) if op == "==" else not _eq(v, rhs)
        return v

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not _truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if (kind, text) == ("op", "("):
            v = self.or_()
            self.take(")")
            return v
        if kind != "ident":
            raise ExprError(f"unexpected {text!r}")
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self.peek() == ("op", "("):
            self.take()
            self.take(")")
            if text not in self.status:
                raise ExprError(f"function {text}() is not supported")
            return self.status[text]
        v: Any = self.ctx
        for part in text.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        return v


def _status(failed: bool) -> Dict[str, bool]:
    return {"always": True, "success": not failed, "failure": failed, "cancelled": False}


def evaluate(expr: str, ctx: Dict[str, Any], failed: bool = False) -> Any:
    return _Parser(_tokens(expr), ctx, _status(failed)).parse()


def substitute(text: Any, ctx: Dict[str, Any]) -> str:
    """Replaces every `${{ expr }}` in text with the expression's value as a string."""

    def one(m: "re.Match[str]") -> str:
        v = evaluate(m.group(1), ctx)
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text), flags=re.S)


def condition(expr: Optional[str], ctx: Dict[str, Any], failed: bool) -> bool:
    if expr is None:
        return not failed
    e = str(expr).strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", e, flags=re.S)
    if m:
        e = m.group(1)
    if not re.search(r"\b(always|success|failure|cancelled)\(\)", e):
        e = f"success() && ({e})"
    return _truthy(evaluate(e, ctx, failed))


# --- the runner --------------------------------------------------------------------------------


def _read_kv(path: Path) -> Dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: `name=value` lines and `name<<DELIM` … `DELIM` blocks."""
    out: Dict[str, str] = {}
    lines = path.read_text("utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            body = []
            i += 1
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        elif line.strip():
            raise ValueError(f"{path}: malformed line {line!r}")
        i += 1
    return out


def run_action(action: Path, inputs: Dict[str, str], workspace: Path, runner_dir: Path) -> Dict[str, Any]:
    """Runs action.yml's steps; returns exit code, captured output, outputs and skipped uses."""
    meta = yaml.safe_load(action.read_text("utf-8"))
    assert meta["runs"]["using"] == "composite", meta["runs"]
    declared = meta.get("inputs", {})
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs not declared in action.yml: {unknown}"
    values = {k: str(v.get("default", "")) for k, v in declared.items()}
    values.update(inputs)
    for name, spec in declared.items():
        if spec.get("required") and not values.get(name):
            raise ValueError(f"input {name} is required")

    temp, tool_cache = runner_dir / "temp", runner_dir / "tool-cache"
    temp.mkdir(parents=True, exist_ok=True)
    tool_cache.mkdir(parents=True, exist_ok=True)
    summary_all = runner_dir / "summary.md"
    ctx: Dict[str, Any] = {
        "inputs": values,
        "github": {
            "action_path": str(action.parent),
            "workspace": str(workspace),
            "action_ref": "",
            "action_repository": "",
        },
        "runner": {"os": "Linux", "arch": "X64", "temp": str(temp), "tool_cache": str(tool_cache)},
        "steps": {},
    }
    base_env = dict(os.environ)
    base_env.update(
        CI="true",
        GITHUB_ACTIONS="true",
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_ACTION_PATH=str(action.parent),
        RUNNER_OS="Linux",
        RUNNER_ARCH="X64",
        RUNNER_TEMP=str(temp),
        RUNNER_TOOL_CACHE=str(tool_cache),
    )
    extra_path: List[str] = []
    failed_rc: Optional[int] = None
    log: List[str] = []
    skipped_uses: List[Dict[str, Any]] = []
    for n, step in enumerate(meta["runs"]["steps"]):
        sid = step.get("id", f"__{n}")
        runs_it = condition(step.get("if"), ctx, failed_rc is not None)
        if "uses" in step:
            skipped_uses.append(
                {
                    "id": sid,
                    "uses": step["uses"],
                    "would_run": runs_it,
                    "with": {k: substitute(v, ctx) for k, v in (step.get("with") or {}).items()},
                }
            )
            ctx["steps"][sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            continue
        assert "run" in step, f"step {sid} has neither run nor uses"
        assert step.get("shell") == "bash", f"step {sid}: composite run steps must say shell: bash"
        if not runs_it:
            ctx["steps"][sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            continue
        files = {k: runner_dir / f"{sid}.{k}" for k in ("output", "env", "path", "summary")}
        for f in files.values():
            f.write_text("")
        env = dict(base_env)
        env["PATH"] = os.pathsep.join([*reversed(extra_path), base_env["PATH"]])
        env.update(
            GITHUB_OUTPUT=str(files["output"]),
            GITHUB_ENV=str(files["env"]),
            GITHUB_PATH=str(files["path"]),
            GITHUB_STEP_SUMMARY=str(files["summary"]),
        )
        env.update({k: substitute(v, ctx) for k, v in (step.get("env") or {}).items()})
        script = runner_dir / f"{sid}.sh"
        script.write_text(substitute(step["run"], ctx))
        cwd = substitute(step.get("working-directory", str(workspace)), ctx)
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        sys.stdout.write(proc.stdout)
        log.append(proc.stdout)
        ctx["steps"][sid] = {
            "outputs": _read_kv(files["output"]),
            "outcome": "success" if proc.returncode == 0 else "failure",
        }
        base_env.update(_read_kv(files["env"]))
        extra_path += [p for p in files["path"].read_text("utf-8").splitlines() if p]
        with summary_all.open("a") as s:
            s.write(files["summary"].read_text("utf-8"))
        if proc.returncode != 0 and failed_rc is None:
            failed_rc = proc.returncode
    outputs = {k: substitute(v["value"], ctx) for k, v in (meta.get("outputs") or {}).items()}
    return {
        "exit_code": failed_rc or 0,
        "log": "".join(log),
        "outputs": outputs,
        "skipped_uses": skipped_uses,
        "summary": summary_all.read_text("utf-8") if summary_all.exists() else "",
    }


# --- the scenarios -----------------------------------------------------------------------------

BAD = """apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
  - {name: web, image: nginx}
"""

GOOD = """apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
  - name: web
    image: registry.example.com/web@sha256:0000000000000000000000000000000000000000000000000000000000000000
"""


def check(cond: bool, what: str, result: Optional[Dict[str, Any]] = None) -> None:
    if not cond:
        if result is not None:
            print(json.dumps({k: v for k, v in result.items() if k != "log"}, indent=2))
        raise SystemExit(f"test_action: FAILED: {what}")
    print(f"ok: {what}")


def uses_of(result: Dict[str, Any]) -> Dict[str, bool]:
    return {u["uses"]: u["would_run"] for u in result["skipped_uses"]}


def main() -> None:
    action = ROOT / "action.yml"
    scratch = Path(tempfile.mkdtemp(prefix="cks-action-"))
    try:
        ws = scratch / "workspace"
        (ws / "k8s" / "bad").mkdir(parents=True)
        (ws / "k8s" / "good").mkdir(parents=True)
        (ws / "k8s" / "bad" / "pod.yaml").write_text(BAD)
        (ws / "k8s" / "good" / "pod.yaml").write_text(GOOD)
        (ws / "warn.yaml").write_text("mode: warn\n")
        (ws / "broken.yaml").write_text("mdoe: warn\n")
        runner = scratch / "runner"  # one tool cache for every run, as on one runner image

        def run(name: str, **inputs: str) -> Dict[str, Any]:
            print(f"\n== action run: {name} {inputs}")
            d = runner / name
            d.mkdir(parents=True)
            # The tool cache is shared across runs (the cache step would restore it).
            shared = runner / "tool-cache"
            shared.mkdir(parents=True, exist_ok=True)
            (d / "tool-cache").symlink_to(shared)
            return run_action(action, inputs, ws, d)

        r = run("bad", paths="k8s/bad")
        check(r["exit_code"] == 1, "a failing manifest fails the action with exit 1", r)
        check("image-mutable-tag" in r["log"], "the log carries the finding's rule id", r)
        check("k8s/bad/pod.yaml" in r["log"], "the log names the file", r)
        check(r["outputs"]["exit-code"] == "1", "output exit-code is 1", r)
        check(
            uses_of(r) == {"actions/cache@v4": True, "github/codeql-action/upload-sarif@v3": False},
            "skipped only the cache step (would run) and the SARIF upload (not asked for)",
            r,
        )
        cache = next(u for u in r["skipped_uses"] if u["uses"] == "actions/cache@v4")
        check(
            Path(cache["with"]["path"], "bin", "cks-policy").is_file(),
            "the cache step's path is where the CLI was installed",
            r,
        )
        check(cache["with"]["key"].startswith("cks-policy-Linux-X64-"), "the cache key names os/arch", r)
        check("failed (exit 1)" in r["summary"], "the step summary says it failed", r)

        r = run("good", paths="k8s/good", format="json", **{"sarif-file": "out/cks.sarif"})
        check(r["exit_code"] == 0, "a passing manifest passes the action", r)
        check("using the cached build" in r["log"], "the second run reuses the installed CLI", r)
        report = json.loads(r["log"][r["log"].index("{") :])
        check(report["summary"]["errors"] == 0, "--format json reached the CLI (json report, no errors)", r)
        sarif = json.loads((ws / "out" / "cks.sarif").read_text())
        check(sarif["version"] == "2.1.0" and sarif["runs"], "the SARIF file was written", r)
        check(r["outputs"]["sarif-file"] == "out/cks.sarif", "output sarif-file names it", r)
        up = next(u for u in r["skipped_uses"] if u["uses"].startswith("github/codeql-action/upload-sarif"))
        check(up["would_run"] and up["with"]["sarif_file"] == "out/cks.sarif", "upload-sarif would run on it", r)

        r = run("bad-sarif", paths="k8s/bad\nk8s/good\n", **{"sarif-file": "bad.sarif", "upload-sarif": "false"})
        check(r["exit_code"] == 1, "findings fail the action when SARIF is written too", r)
        sarif = json.loads((ws / "bad.sarif").read_text())
        rules = {res["ruleId"] for run_ in sarif["runs"] for res in run_["results"]}
        check("image-mutable-tag" in rules, "the SARIF report carries the finding", r)
        check(not uses_of(r)["github/codeql-action/upload-sarif@v3"], "upload-sarif: false skips the upload", r)

        r = run("warn", paths="k8s/bad", settings="warn.yaml")
        check(r["exit_code"] == 0, "the settings input reaches the CLI (mode: warn passes)", r)

        r = run("bad-settings", paths="k8s/bad", settings="broken.yaml")
        check(r["exit_code"] == 2 and "/mdoe" in r["log"], "bad settings fail with exit 2, naming the key", r)

        (ws / "k8s" / "sp ace").mkdir()
        (ws / "k8s" / "sp ace" / "pod.yaml").write_text(BAD)
        r = run("spaces", paths="  k8s/sp ace  \n")
        check(
            r["exit_code"] == 1 and "k8s/sp ace/pod.yaml:6: error image-mutable-tag" in r["log"],
            "a path with a space is one path (lines are trimmed, not split)",
            r,
        )

        r = run("no-paths", paths="\n  \n")
        check(r["exit_code"] == 2 and "names no file" in r["log"], "empty paths fail with exit 2", r)
        print("\ntest_action: all action runs behaved as expected")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
