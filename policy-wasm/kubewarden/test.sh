#!/usr/bin/env bash
# Builds the Kubewarden module with the size profile, shrinks it with wasm-opt, checks its size,
# and runs it in a real waPC host (wasmtime) against every golden fixture.
#
# Needs Rust with the wasm32-wasip1 target (rust-toolchain.toml asks rustup for it) and
# binaryen's wasm-opt (installed with apt-get when missing). Run from anywhere:
#   policy-wasm/kubewarden/test.sh
# Env: CARGO_TARGET_DIR (default target/), CKS_KUBEWARDEN_MAX_BYTES (default 1500000).
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
step() { echo "==> kubewarden: $* ($(($(date +%s) - start))s)"; }

max_bytes=${CKS_KUBEWARDEN_MAX_BYTES:-1500000}
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
case "$target_dir" in /*) ;; *) target_dir=$PWD/$target_dir ;; esac
raw=$target_dir/wasm32-wasip1/wasm/cks_policy_kubewarden.wasm
out=$target_dir/kubewarden/policy.wasm

if ! command -v wasm-opt >/dev/null; then
  step "installing binaryen (wasm-opt)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq binaryen >/dev/null
fi

step "build (profile wasm, wasm32-wasip1)"
cargo build -p cks-policy-kubewarden --target wasm32-wasip1 --profile wasm --locked

step "wasm-opt -Oz"
mkdir -p "$(dirname "$out")"
# The custom sections that said which wasm features the module uses are stripped with the
# symbols, so name the ones rustc emits for wasm32-wasip1.
wasm-opt -Oz \
  --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types \
  "$raw" -o "$out"

before=$(wc -c <"$raw")
after=$(wc -c <"$out")
echo "module size: $before bytes built, $after bytes after wasm-opt -Oz (limit $max_bytes): $out"

step "host tests (wasmtime waPC host, every golden fixture)"
CKS_KUBEWARDEN_WASM=$out cargo test -p cks-policy-kubewarden-host --features module --locked

if [ "$after" -gt "$max_bytes" ]; then
  echo "FAIL: the module is $after bytes, above the limit of $max_bytes" >&2
  exit 1
fi
step "done"
