#!/usr/bin/env bash
# Tests the browser checker: native unit tests of the wasm-bindgen crate, then the built page in
# headless Chromium (Debian's, driven by playwright-core) against every golden case in
# fixtures/cases/, settings errors, garbage input, the examples, a 1,000-line paste and a
# screenshot; fails when the engine is above the size budget.
#
# Installs what is missing (as root, or with sudo): chromium (apt), the e2e packages (npm ci),
# and through build.sh the wasm target, wasm-bindgen-cli and binaryen. Run from anywhere:
#   policy-wasm/web/test.sh
# Env: CARGO_TARGET_DIR (default target/), CKS_WEB_MAX_BYTES (default 2100000: a guard against
# growth; the 1 MB target is not met, see README and BENCHMARKS), CHROMIUM (default /usr/bin/chromium),
# CKS_WEB_ARTIFACTS (screenshot folder).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
start=$(date +%s)
step() { echo "==> web: $* ($(($(date +%s) - start))s)"; }

max_bytes=${CKS_WEB_MAX_BYTES:-2100000}
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
case "$target_dir" in /*) ;; *) target_dir=$PWD/$target_dir ;; esac
export CKS_WEB_DIST=${CKS_WEB_DIST:-$target_dir/web-dist}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

if [ ! -x "$CHROMIUM" ]; then
  step "installing chromium"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium >/dev/null
fi
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "FAIL: node and npm are needed for the browser tests" >&2
  exit 1
}

"$here/build.sh"

step "unit tests (native)"
cargo test -p cks-policy-web --locked

step "npm ci (playwright-core, pinned)"
(cd "$here/e2e" && npm ci --no-audit --no-fund --loglevel=error)

step "end-to-end tests (headless chromium)"
(cd "$here/e2e" && node --test --test-concurrency=1 --test-reporter=spec checker.test.mjs)

wasm=$CKS_WEB_DIST/pkg/cks_policy_web_bg.wasm
size=$(wc -c <"$wasm")
cat "$CKS_WEB_DIST/size.txt"
if [ "$size" -gt "$max_bytes" ]; then
  echo "FAIL: the engine is $size bytes after wasm-opt, above the limit of $max_bytes" >&2
  exit 1
fi
echo "engine size: $size bytes after wasm-opt (limit $max_bytes)"
step "done"
