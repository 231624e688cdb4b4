#!/usr/bin/env bash
# Builds and tests the C ABI (policy-ffi) and its Go and Python packages, from a fresh clone.
#
#   bash policy-ffi/test.sh
#
# Needs Rust, Go, Python 3.11 (or $PYTHON), gcc and valgrind; pip installs maturin, cffi and
# pytest into policy-ffi/python/.venv. Honours CARGO_TARGET_DIR (default: <repo>/target).
# LEAK_CYCLES (valgrind, default 3000) and RSS_CYCLES (native, default 100000) size the leak test.
set -euo pipefail

start=$(date +%s)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
ffi="$root/policy-ffi"
target=${CARGO_TARGET_DIR:-$root/target}
case "$target" in /*) ;; *) target="$root/$target" ;; esac
python=${PYTHON:-python3.11}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { echo "== [$(($(date +%s) - start))s] $*"; }
fail() { echo "policy-ffi/test.sh: $*" >&2; exit 1; }

step "Rust: ABI tests over every fixture, header up to date, panic boundary"
# Runs first: with --features test-panic the lib carries the test export, and the production
# build below must be the last one to write the libraries we link.
cargo test -p cks-policy-ffi --profile ffi --features test-panic

step "build libcks_policy.a/.so (ffi profile, unwinds) and check the documented link flags"
cargo rustc -p cks-policy-ffi --profile ffi --lib -- --print native-static-libs 2>"$work/build.log" \
  || { cat "$work/build.log" >&2; fail "library build failed"; }
flags=$(sed -n 's/^note: native-static-libs: //p' "$work/build.log" | tail -1)
[ -n "$flags" ] || { cat "$work/build.log" >&2; fail "rustc printed no native-static-libs"; }
documented=$(awk '/<!-- native-static-libs -->/ {m=1; next} m && /^-l/ {print; exit}' "$ffi/README.md")
[ "$flags" = "$documented" ] \
  || fail "README link flags '$documented' differ from rustc's native-static-libs '$flags'"
echo "link flags: $flags (match README)"
cp "$target/ffi/libcks_policy.a" "$target/ffi/libcks_policy.so" "$work/"
if nm -g --defined-only "$work/libcks_policy.a" 2>/dev/null | grep -q cks_policy_test_panic; then
  fail "the production static library exports the test-only cks_policy_test_panic"
fi

step "C: compile tests/c/test.c against the header and the static library, run it"
# shellcheck disable=SC2086 # the flags are a word list
gcc -std=c11 -O1 -g -Wall -Wextra -Werror -I "$ffi/include" "$ffi/tests/c/test.c" \
  "$work/libcks_policy.a" $flags -o "$work/cks_policy_test"
"$work/cks_policy_test"
# The header is plain C++ too.
g++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only -x c++ "$ffi/include/cks_policy.h"

step "memory: valgrind leak check (${LEAK_CYCLES:-3000} cycles) and native RSS (${RSS_CYCLES:-100000} cycles)"
valgrind --quiet --leak-check=full --error-exitcode=1 \
  "$work/cks_policy_test" leak "${LEAK_CYCLES:-3000}"
"$work/cks_policy_test" leak "${RSS_CYCLES:-100000}" rss

step "Go: go vet and go test -race"
mkdir -p "$ffi/go/lib/linux_amd64"
cp "$work/libcks_policy.a" "$ffi/go/lib/linux_amd64/"
(cd "$ffi/go" && go vet ./... && go test -race -count=1 ./...)

step "Python: build the wheel with maturin (cffi), install it into the venv, run pytest"
venv="$ffi/python/.venv"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "maturin==1.16.0" "cffi==2.1.1" "pytest==9.2.0"
(cd "$ffi/python" && "$venv/bin/maturin" build --quiet --profile ffi \
  --interpreter "$venv/bin/python" --out "$work/dist")
wheel=$(ls "$work"/dist/cks_policy-*.whl)
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall \
  --no-deps "$wheel"
set +e
(cd "$ffi/python" && "$venv/bin/pytest" -q -rs -p no:cacheprovider)
rc=$?
set -e
[ "$rc" -eq 5 ] && fail "pytest collected no tests"
[ "$rc" -eq 0 ] || fail "pytest failed ($rc)"

step "policy-ffi/test.sh passed in $(($(date +%s) - start))s"
