#!/usr/bin/env bash
# The kubectl differential test (issue 19 item 3): kubectl's resource builder as the oracle of
# how `check` reads files. See README.md in this folder for what is compared and why
# `kubectl annotate --local` is the command.
#
# Inputs: fixtures/cases/*/input.*, ../shared/corpus (all of it), the hostile inputs hostile.py
# writes, and the fuzz corpus (fuzz/corpus/check, fuzz/corpus/generated/manifests) when present.
# Outside CI a sample (every fixture and hostile input, every 8th corpus file, the generated fuzz
# seeds); under CI=true, or with --all, everything.
#
# kubectl is v1.35.4 (K8S_VERSION overrides) built by e2e/build-k8s.sh into a cache outside the
# repository, or $KUBECTL. Outside CI, when it cannot be built, the test says loudly that it was
# skipped and exits 0; under CI=true that is a failure.
#
# Usage: e2e/kubectl-diff/run.sh [--all]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
all=0
[ "${1:-}" = "--all" ] && all=1
[ "${CI:-}" = "true" ] && all=1

skip() {
  if [ "${CI:-}" = "true" ]; then
    echo "kubectl-diff: FAILED: $*" >&2
    exit 1
  fi
  echo "!!! kubectl-diff: SKIPPED: $* (under CI=true this fails) !!!" >&2
  exit 0
}

kubectl="${KUBECTL:-}"
if [ -z "$kubectl" ]; then
  if bin=$(bash e2e/build-k8s.sh 2> >(sed 's/^/  /' >&2)); then
    kubectl="$bin/kubectl"
  else
    skip "kubectl could not be built (e2e/build-k8s.sh failed; is Go installed?)"
  fi
fi
[ -x "$kubectl" ] || skip "no kubectl at $kubectl"
"$kubectl" version --client >/dev/null 2>&1 || skip "$kubectl does not run"
echo "kubectl-diff: $("$kubectl" version --client 2>/dev/null | head -1) at $kubectl"

cargo build -q --locked -p cks-policy-cli
cks="${CARGO_TARGET_DIR:-$repo/target}/debug/cks-policy"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 "$here/hostile.py" "$tmp/hostile"

args=()
shopt -s nullglob
for f in fixtures/cases/*/input.*; do args+=("fixtures/${f#fixtures/cases/}=$f"); done
for f in "$tmp"/hostile/*; do args+=("hostile/${f##*/}=$f"); done
corpus="$repo/../shared/corpus"
if [ -d "$corpus" ]; then
  n=0
  while IFS= read -r -d '' f; do
    if [ "$all" = 1 ] || [ $((n % 8)) = 0 ]; then args+=("corpus/${f#"$corpus"/}=$f"); fi
    n=$((n + 1))
  done < <(find "$corpus" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -print0 | sort -z)
elif [ "$all" = 1 ]; then
  echo "kubectl-diff: FAILED: the shared corpus ($corpus) is missing" >&2
  exit 1
else
  echo "kubectl-diff: note: no shared corpus at $corpus" >&2
fi
for f in fuzz/corpus/generated/manifests/*; do args+=("fuzz/${f#fuzz/corpus/}=$f"); done
# What libFuzzer grew from those seeds differs from run to run, so it is compared in a second
# pass that reports its differences but does not fail: a random mutant must not fail a change
# that did not cause it. A difference seen there becomes a hostile.py input (which does fail).
fuzzed=()
if [ "$all" = 1 ]; then
  for f in fuzz/corpus/check/*; do fuzzed+=("fuzz/${f#fuzz/corpus/}=$f"); done
fi

echo "kubectl-diff: ${#args[@]} files ($([ "$all" = 1 ] && echo everything || echo sample))"
complete=()
[ "$all" = 1 ] && complete=(--complete)
python3 "$here/diff.py" --kubectl "$kubectl" --cks "$cks" --jobs "${KUBECTL_DIFF_JOBS:-2}" "${complete[@]}" \
  ${KUBECTL_DIFF_REPORT:+--report "$KUBECTL_DIFF_REPORT"} "${args[@]}"

if [ ${#fuzzed[@]} -gt 0 ]; then
  echo "kubectl-diff: the libFuzzer corpus, ${#fuzzed[@]} files (reported, never failing):"
  if ! python3 "$here/diff.py" --kubectl "$kubectl" --cks "$cks" --jobs "${KUBECTL_DIFF_JOBS:-2}" \
    --expected /dev/null "${fuzzed[@]}"; then
    echo "kubectl-diff: NOTE: the libFuzzer corpus differs from kubectl above; add the smallest such input to hostile.py"
  fi
fi
