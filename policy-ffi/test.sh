#!/usr/bin/env bash
# Builds and tests the C ABI (policy-ffi) and its Go and Python packages, from a fresh clone.
#
#   bash policy-ffi/test.sh
#
# Needs Rust, Go, Python 3.11 (or $PYTHON), gcc and valgrind; pip installs maturin, cffi,
# pytest and auditwheel into policy-ffi/python/.venv. Honours CARGO_TARGET_DIR (default: <repo>/target).
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

step "Go: a module outside the repository builds against the package and the static library"
# What README's "Using the package from another module" says: `go get` brings only the
# committed files (no lib/), so the consumer points cgo at its own copy of libcks_policy.a
# with CGO_LDFLAGS. The package is copied as the module cache would hold it, and the consumer
# lives in a temporary directory outside this repository.
grep -q 'CGO_LDFLAGS="-L' "$ffi/README.md" || fail "README does not document CGO_LDFLAGS for outside modules"
grep -q 'cargo build -p cks-policy-ffi --profile ffi --locked' "$ffi/README.md" \
  || fail "README does not document the cargo build line"
outside="$work/outside"
mkdir -p "$outside"
case "$outside/" in "$root"/*) fail "the temporary module $outside is inside the repository" ;; esac
pkg="$outside/modcache/ckspolicy"
mkdir -p "$pkg" "$outside/lib" "$outside/consumer"
(cd "$ffi/go" && git ls-files -z --cached --others --exclude-standard . | xargs -0 cp --parents -t "$pkg")
[ ! -e "$pkg/lib" ] || fail "the module copy carries lib/, which go get would not"
cp "$work/libcks_policy.a" "$outside/lib/"
cat > "$outside/consumer/go.mod" <<GOMOD
module example.invalid/consumer

go 1.22

require github.com/cks-policy/cks-policy/policy-ffi/go v0.0.0

replace github.com/cks-policy/cks-policy/policy-ffi/go => $pkg
GOMOD
cat > "$outside/consumer/main.go" <<'GO'
package main

import (
	"context"
	"fmt"
	"os"

	ckspolicy "github.com/cks-policy/cks-policy/policy-ffi/go"
)

func main() {
	p, err := ckspolicy.New(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer p.Close()
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: web, image: nginx}]}\n"
	r, err := p.Evaluate(context.Background(), "pod.yaml", []byte(pod))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("cks-policy %s errors=%d first=%s\n", ckspolicy.Version(), r.Summary.Errors, r.Results[0].Findings[0].Rule)
}
GO
export_go() { (cd "$outside/consumer" && env GOFLAGS=-mod=mod GOPROXY=off GOWORK=off "$@"); }
if export_go go build -o "$outside/consumer.bin" . >"$work/nolib.log" 2>&1; then
  fail "the outside module linked without CGO_LDFLAGS: the test would not show the documented flag matters"
fi
grep -q 'cks_policy' "$work/nolib.log" || { cat "$work/nolib.log" >&2; fail "unexpected failure without CGO_LDFLAGS"; }
export_go env CGO_LDFLAGS="-L$outside/lib" go vet ./...
export_go env CGO_LDFLAGS="-L$outside/lib" go build -o "$outside/consumer.bin" .
out=$("$outside/consumer.bin")
echo "$out"
case "$out" in "cks-policy $(cargo pkgid -p cks-policy-ffi | sed 's/.*[#@]//') errors="[1-9]*" first="*) ;;
  *) fail "the outside module printed '$out'" ;; esac
if ldd "$outside/consumer.bin" | grep -q cks_policy; then fail "the outside module linked libcks_policy dynamically"; fi

step "Go: a header or a static library of another version is refused when the package is built"
# README's "Using the package from another module": the Go files, their header and the static
# library must be one version. A copy of the package whose header says 9.9.9 must stop at the
# preamble's #error; one whose header and Go files both say 9.9.9 (a newer checkout) must fail
# to link against this 0.1.0 library, naming the versioned symbol.
version=$(cargo pkgid -p cks-policy-ffi | sed 's/.*[#@]//')
mismatch() { # kind: header | library
  rm -rf "$outside/mismatch" && cp -r "$pkg" "$outside/mismatch"
  sed -i -e 's/^#define CKS_POLICY_VERSION_\(MAJOR\|MINOR\|PATCH\) .*/#define CKS_POLICY_VERSION_\1 9/' \
    -e "s/cks_policy_version_${version//./_}/cks_policy_version_9_9_9/" "$outside/mismatch/cks_policy.h"
  if [ "$1" = library ]; then
    sed -i 's/^#if CKS_POLICY_VERSION_MAJOR != .*/#if CKS_POLICY_VERSION_MAJOR != 9 || CKS_POLICY_VERSION_MINOR != 9 || CKS_POLICY_VERSION_PATCH != 9/' \
      "$outside/mismatch/ckspolicy.go"
  fi
  sed -i "s|=> $pkg\$|=> $outside/mismatch|" "$outside/consumer/go.mod"
  local rc=0
  export_go env CGO_LDFLAGS="-L$outside/lib" go build -o "$outside/mismatch.bin" . >"$work/mismatch-$1.log" 2>&1 || rc=$?
  sed -i "s|=> $outside/mismatch\$|=> $pkg|" "$outside/consumer/go.mod"
  [ "$rc" -ne 0 ] || fail "the package built with a $1 of another version"
}
mismatch header
grep -q "cks_policy.h is not version $version" "$work/mismatch-header.log" \
  || { cat "$work/mismatch-header.log" >&2; fail "a header of another version failed for another reason"; }
mismatch library
grep -q 'cks_policy_version_9_9_9' "$work/mismatch-library.log" \
  || { cat "$work/mismatch-library.log" >&2; fail "a library of another version failed for another reason"; }
echo "refused: a header of another version (#error) and a library of another version (link)"

step "Python: build the wheel with maturin build --release (cffi), check its tags, install it, run pytest"
venv="$ffi/python/.venv"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "maturin==1.16.0" "cffi==2.1.1" "pytest==9.2.0" "auditwheel==6.8.2"
# `--release` is what users type; it takes the workspace release profile over pyproject's `ffi`.
# Both must unwind, or a panic would abort the Python process instead of becoming
# CKS_POLICY_PANIC: release sets no panic strategy (unwind), and this fails if that changes.
if awk '/^\[profile\.release\]/ {m=1; next} /^\[/ {m=0} m && /^panic/' "$root/Cargo.toml" | grep -q abort \
  || [ "${CARGO_PROFILE_RELEASE_PANIC:-unwind}" != unwind ]; then
  fail "the release profile aborts on panic; the wheel needs it to unwind"
fi
(cd "$ffi/python" && "$venv/bin/maturin" build --quiet --release \
  --interpreter "$venv/bin/python" --out "$work/dist")
wheel=$(ls "$work"/dist/cks_policy-*.whl)
# The wheel's own metadata: one tag, Python-version independent (`py3-none`: the cffi module
# is loaded with dlopen and uses no CPython API, which covers every interpreter abi3 would and
# PyPy too), for a manylinux platform; auditwheel confirms the platform tag from the symbols.
"$venv/bin/python" - "$wheel" <<'PY' || fail "wheel metadata check failed"
import sys, zipfile
w = zipfile.ZipFile(sys.argv[1])
names = w.namelist()
meta = w.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
tags = [l.split(":", 1)[1].strip() for l in meta.splitlines() if l.startswith("Tag:")]
print("wheel tags:", tags)
assert len(tags) == 1, tags
py, abi, plat = tags[0].split("-")
assert (py, abi) == ("py3", "none"), tags
assert plat.startswith("manylinux_") and plat.endswith("_x86_64"), tags
for f in ("cks_policy/py.typed", "cks_policy/__main__.py", "cks_policy/__init__.py"):
    assert f in names, f"{f} missing from the wheel"
PY
"$venv/bin/auditwheel" show "$wheel" | tee "$work/auditwheel.txt"
grep -q 'is consistent with' "$work/auditwheel.txt" && grep -q '"manylinux_' "$work/auditwheel.txt" \
  || fail "auditwheel does not find the wheel manylinux-consistent"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall \
  --no-deps "$wheel"
set +e
(cd "$ffi/python" && "$venv/bin/pytest" -q -rs -p no:cacheprovider)
rc=$?
set -e
[ "$rc" -eq 5 ] && fail "pytest collected no tests"
[ "$rc" -eq 0 ] || fail "pytest failed ($rc)"

step "policy-ffi/test.sh passed in $(($(date +%s) - start))s"
