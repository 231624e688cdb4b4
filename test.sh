#!/usr/bin/env bash
# The whole test suite: every surface over the shared golden vectors. Installs what a fresh
# machine lacks first (.ci/install). Usage: ./test.sh
set -euo pipefail
cd "$(dirname "$0")"
start=$(date +%s)
step() { echo; echo "==> $* ($(( $(date +%s) - start ))s)"; }

step install
bash .ci/install

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The configuration the Kubewarden module builds (no YAML), which the workspace build never sees.
cargo clippy -p policy-core --no-default-features --features k8s-openapi/v1_34 --lib --locked -- -D warnings

step "cargo test (core, golden vectors, properties, CLI)"
cargo test --workspace --locked

step "policy-core builds for wasm32-unknown-unknown (no I/O crept in)"
cargo build -p policy-core --target wasm32-unknown-unknown --features k8s-openapi/v1_34 --locked

step "fuzz (bounded run, corpus seeded from fixtures)"
fuzz/run.sh "${FUZZ_SECONDS:-30}"

# After the fuzz run, so that CI compares its corpus too. A sample here; everything under CI=true.
step "kubectl differential (kubectl's resource builder as the reader's oracle)"
bash e2e/kubectl-diff/run.sh

for surface in policy-wasm/kubewarden policy-ffi policy-wasm/web; do
  step "$surface"
  bash "$surface/test.sh"
done

step "GitHub Action (action.yml's steps, run as the runner does)"
bash .ci/test-action.sh

step "pre-commit hook (pre-commit from PyPI on a scratch repository)"
bash .ci/test-pre-commit.sh

step "e2e: admission through a real kube-apiserver (e2e/run.sh; skipped loudly outside CI without Go)"
bash e2e/run.sh

step "native policies: upstream VAP plugin differential over the golden vectors, then kube-apiserver 1.35 and 1.37 (e2e/native/run.sh)"
bash e2e/native/run.sh

step "done"
echo "all suites passed in $(( $(date +%s) - start ))s"
# What the run left on disk, so a CI log shows how close it came to the machine's limit.
du -sh "${CARGO_TARGET_DIR:-target}" fuzz/target 2>/dev/null || true
