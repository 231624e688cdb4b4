#!/usr/bin/env bash
# Runs the pre-commit hook (.pre-commit-hooks.yaml) for real: pre-commit from PyPI, a scratch git
# repository whose .pre-commit-config.yaml points at this repository at HEAD, and
# `pre-commit run --all-files` over a bad manifest (must fail, naming the finding) and good ones
# (must pass). pre-commit clones this repository and installs the hook the way it would for any
# user (`cargo install --path .`, then `--path=cli`); CARGO_TARGET_DIR is shared so only the
# workspace crates are rebuilt. Tests what is committed: HEAD, not the working tree.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case "$target" in /*) ;; *) target="$root/$target" ;; esac
export CARGO_TARGET_DIR=$target
fail() { echo "test-pre-commit: FAILED: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

venv="$target/ci-venv"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pre-commit==4.7.0"

# The root is a package only for pre-commit (see Cargo.toml); keep `cargo test` at the root
# meaning the whole workspace.
cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" | "$venv/bin/python" -c '
import json, sys
m = json.load(sys.stdin)
root = next(p["id"] for p in m["packages"] if p["name"] == "cks-policy-pre-commit")
missing = set(m["workspace_members"]) - set(m["workspace_default_members"]) - {root}
if missing:
    sys.exit(f"workspace members missing from default-members in Cargo.toml: {sorted(missing)}")
'
ok "default-members lists every workspace member"

rev=$(git -C "$root" rev-parse HEAD)
if ! git -C "$root" diff --quiet HEAD -- .pre-commit-hooks.yaml Cargo.toml Cargo.lock .ci/pre-commit-stub.rs cli policy-core; then
  echo "note: uncommitted changes to the hook's sources are not what this tests (it tests $rev)"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PRE_COMMIT_HOME="$work/pre-commit-home"
repo="$work/scratch"
git init -q "$repo"
cd "$repo"
git config user.email ci@example.invalid
git config user.name ci
cat > .pre-commit-config.yaml <<YAML
repos:
  - repo: $root
    rev: $rev
    hooks:
      - id: cks-policy
YAML
mkdir -p k8s .github/workflows
cat > k8s/bad.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
  - {name: web, image: nginx}
YAML
cat > k8s/good.json <<'JSON'
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ok", "namespace": "default"},
 "spec": {"containers": [{"name": "ok", "image": "registry.example.com/ok@sha256:0000000000000000000000000000000000000000000000000000000000000000"}]}}
JSON
# Not Kubernetes objects: excluded (.github/) or not matched (*.txt).
printf 'on: push\njobs: {}\n' > .github/workflows/ci.yml
echo 'notes' > notes.txt
git add -A
git commit -q -m scratch

set +e
"$venv/bin/pre-commit" run --all-files --color never > "$work/bad.log" 2>&1
rc=$?
set -e
cat "$work/bad.log"
[ "$rc" -eq 1 ] || fail "pre-commit exited $rc on a bad manifest, not 1"
grep -q "k8s/bad.yaml:6: error image-mutable-tag" "$work/bad.log" || fail "the finding is not in the hook's output"
grep -q "cks-policy.*Failed" "$work/bad.log" || fail "the hook is not reported as Failed"
ok "a bad manifest fails the hook with its finding"
installed=$(ls "$PRE_COMMIT_HOME"/repo*/rustenv-*/bin/cks-policy 2>/dev/null || true)
[ -n "$installed" ] || fail "pre-commit's rust environment holds no cks-policy binary"
ok "pre-commit installed cks-policy into its own environment ($installed)"

git rm -q k8s/bad.yaml
git commit -q -m good
set +e
"$venv/bin/pre-commit" run --all-files --color never --verbose > "$work/good.log" 2>&1
rc=$?
set -e
cat "$work/good.log"
[ "$rc" -eq 0 ] || fail "pre-commit exited $rc on good manifests, not 0"
grep -q "cks-policy.*Passed" "$work/good.log" || fail "the hook did not run and pass"
grep -q "k8s/good.json" "$work/good.log" || fail "the hook did not judge k8s/good.json"
if grep -q -e "ci.yml" -e ".pre-commit-config" -e "notes.txt" "$work/good.log"; then
  fail "the hook was passed a file that is not a manifest"
fi
ok "good manifests pass; pre-commit's and GitHub's YAML files are not passed to the hook"
echo "test-pre-commit: passed"
