#!/usr/bin/env bash
# Short, bounded coverage-guided fuzz run of the text entry points (cargo-fuzz + libFuzzer on
# the nightly toolchain). Targets: check (manifest text), review (AdmissionReview bytes),
# settings (settings text, JSON or YAML), fix (`--fix` edits must read back), block (the block
# YAML reader against yaml-rust2 on every text it reads).
#
# The corpus is seeded from the golden fixtures, the examples, the bench inputs when present
# (../../shared/bench-inputs) and inputs generated here that stress the reader: multi-document
# streams, `kind: List`, anchors/aliases/merge keys, `!!binary`, duplicate keys, deep flow and
# block nesting, invalid UTF-8 and NUL bytes. Each input may be up to 256 KiB and must finish
# within 1 s (libFuzzer's `-timeout` is whole seconds; 1 is its floor) and 2 GiB of RSS, so
# quadratic behaviour and runaway allocation are failures, not slow runs.
#
# Usage: fuzz/run.sh [seconds-per-target] [target...]   (default 60 s; all targets)
# Prints each target's executions per second at the end; exits 1 if any target failed
# (the input is saved under fuzz/artifacts/<target>/).
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(check review settings fix block)
max_len=262144

# --- seeds -------------------------------------------------------------------------------------
gen=corpus/generated
rm -rf "$gen"
mkdir -p "$gen/manifests" "$gen/settings"
m="$gen/manifests"
pod() { # name, extra spec lines
  printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  containers:\n  - name: c\n    image: nginx\n%s' "$1" "${2:-}"
}
repeat() { # count, text
  local i out=""
  for ((i = 0; i < $1; i++)); do out+="$2"; done
  printf '%s' "$out"
}
{ pod a; printf -- '---\n'; pod b '    securityContext: {privileged: true}\n'; printf -- '--- # c\n...\n---\n'; pod c; } >"$m/multi.yaml"
printf 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec: {containers: [{name: a, image: "nginx:1"}]}\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: b}\n  spec: {template: {spec: {containers: [{name: b, image: nginx}]}}}\n' >"$m/list.yaml"
printf '{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"a","image":"nginx"}]}}]}' >"$m/list.json"
printf 'apiVersion: example.com/v1\nkind: PriorityList\nmetadata: {name: p}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: nginx}]\n' >"$m/list-named-kind.yaml"
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  labels: &l {app: a, tier: web}\nspec:\n  selector: {matchLabels: *l}\n  template:\n    metadata: {labels: *l}\n    spec:\n      containers:\n      - &c\n        name: a\n        image: nginx\n        resources: &r {limits: {cpu: 1}}\n      - <<: *c\n        name: b\n      - <<: [*c, {resources: *r}]\n        name: d\n' >"$m/anchors.yaml"
{ printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'; prev=a; for i in b c d e f g h i; do printf '  %s: &%s [' "$i" "$i"; repeat 9 "*$prev, "; printf '*%s]\n' "$prev"; prev=$i; done; } >"$m/alias-bomb.yaml"
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n    !!binary cW9zLmNvcmV3ZWF2ZS5jbG91ZC9pbnRlcnJ1cHRhYmxl: "true"\n    ? !!binary YXBw\n    : !!str web\nspec:\n  containers: [{name: a, image: !!str nginx}]\n' >"$m/binary.yaml"
printf '{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"a"},"spec":{"template":{"spec":{"containers":[{"name":"a","image":"nginx","securityContext":{"privileged":true}}]}}},"kind":"StatefulSet"}' >"$m/duplicate.json"
printf 'apiVersion: v1\nkind: ConfigMap\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: a, name: b}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: a, image: nginx, image: "nginx:1"}\n' >"$m/duplicate.yaml"
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: n\n  labels: {enabled: yes, off: on, mode: 0400, hex: 0x1F, n: 1_000, t: ~, f: .inf}\nspec:\n  volumes: [{name: v, secret: {secretName: s, defaultMode: 0400}}]\n  containers: [{name: "n", image: "yes"}]\n' >"$m/yaml11.yaml"
# Issue 18: the smallest forms that spend each alias budget under the default limits. Anchors
# nested in anchors (each keeps a copy of what it holds), aliases copying a long string (one
# node, 45 KB of text each), two documents each under the per-document limit that together
# spend the input's, and a JSON field no rule reads nested deeper than 128.
{ printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nest}\nx: '; for ((i = 0; i < 40; i++)); do printf '&n%d [' "$i"; done; repeat 4999 '1,'; printf '1'; repeat 40 ']'; printf '\n'; } >"$m/anchor-nest.yaml"
{ printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: text}\ns: &s "'; repeat 45000 'x'; printf '"\nl: ['; repeat 98 '*s,'; printf '*s]\n'; } >"$m/alias-text.yaml"
for d in 1 2; do
  printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: d%d}\nx:\n  a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n' "$d"
  prev=a0; for i in a1 a2 a3; do printf '  %s: &%s [' "$i" "$i"; repeat 9 "*$prev,"; printf '*%s]\n' "$prev"; prev=$i; done
  printf '  a4: [*a3,*a3,*a3,*a3]\n'
done >"$m/alias-input-budget.yaml"
{ printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"z":'; repeat 128 '['; repeat 128 ']'; printf '}'; } >"$m/deep-unread.json"
{ repeat 100000 '['; repeat 100000 ']'; } >"$m/deep-flow.yaml"
{ repeat 20000 '{a: '; printf 'x'; repeat 20000 '}'; } >"$m/deep-flow-map.yaml"
{ repeat 100000 '['; } >"$m/deep-flow-open.json"
{ printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n'; ind='    '; for ((i = 0; i < 300; i++)); do printf '%sk%d:\n' "$ind" "$i"; ind+=' '; done; printf '%sv\n' "$ind"; } >"$m/deep-block.yaml"
{ printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n'; for ((i = 0; i < 200; i++)); do repeat "$i" ' '; printf -- '- \n'; done; } >"$m/deep-block-seq.yaml"
{ pod a; printf 'bad: \xff\xfe\n---\n'; pod b; } >"$m/invalid-utf8.yaml"
{ pod a; printf 'x: "a\0b"\n---\n'; pod b; } >"$m/nul.yaml"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: "\033[2K\rOK: all checks passed"}\nspec: {containers: [{name: a, image: nginx}]}\r\n' >"$m/control.yaml"
printf '\xef\xbb\xbf{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"a","image":"nginx"}]}}' >"$m/bom.json"
# A JSON stream: values one after another, then `---` and YAML, then garbage (kubectl-diff).
printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}{"kind":"Pod"}\nnull\n{"kind":"Pod"}' >"$m/json-stream.json"
printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}\n---\nkind: Pod\n---\n}' >"$m/json-then-yaml.yaml"
printf 'a: {b: nginx? x}\nc: [d, ?e, "f?"]\n' >"$m/flow-question.yaml"
printf 'a: |\n  line\n  ' >"$m/block-scalar-last-line-blank.yaml"
printf 'a:\tb\nc:\t"d:\te"\nh:\n- f:\tg\n' >"$m/tab-after-colon.yaml"
printf 'a:\n  - {b: c, d:\n e, f: [g\n h,\ni]}\n' >"$m/flow-continuation-indent.yaml"
printf '# Source: chart/templates/pod.yaml\n' >"$m/helm.yaml"; pod a >>"$m/helm.yaml"
printf 'apiVersion: admission.k8s.io/v1\nkind: AdmissionReview\nrequest:\n  uid: u\n  operation: CREATE\n  kind: {group: "", version: v1, kind: Pod}\n  object:\n    apiVersion: v1\n    kind: Pod\n    metadata: {name: a}\n    spec: {containers: [{name: a, image: nginx}]}\n' >"$m/review.yaml"
printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE","kind":{"group":"","version":"v1","kind":"Pod"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"a","image":"nginx"}]}}}}' >"$m/review-no-uid.json"
{ printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: wide}\nspec:\n  containers:\n'; for ((i = 0; i < 2000; i++)); do printf '  - {name: c%d, image: nginx}\n' "$i"; done; } >"$m/wide-pod.yaml"
{ printf 'apiVersion: v1\nkind: List\nitems:\n'; for ((i = 0; i < 400; i++)); do printf -- '- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: d%d}\n  spec:\n    template:\n      spec:\n        containers:\n        - name: c\n          image: nginx\n' "$i"; done; } >"$m/long-list.yaml"
s="$gen/settings"
printf '{"images":{"allow":[1,2,"["]}}' >"$s/bad-types.json"
printf 'rules:\n  input-invalid:\n    enabled: false\n' >"$s/input-invalid.yaml"
printf 'mode: enforce\nimages:\n  allow: ["registry.example.com/**", "nginx*"]\nlimits: {maxDepth: 64, maxAliases: 10, maxAliasNodes: 1000}\nrules:\n  cpu-compute-toleration: {severity: warning}\n' >"$s/yaml.yaml"
printf 'a: &a {mode: audit}\n<<: *a\nmode: enforce\nmode: audit\n' >"$s/anchors.yaml"
{ printf '{"images":{"allow":['; for ((i = 0; i < 300; i++)); do printf '%d,' "$i"; done; printf '"x"]}}'; } >"$s/many-problems.json"
{ repeat 50000 '{"a":'; } >"$s/deep.json"
printf '{"limits":{"maxBytes":16777216,"maxDepth":128,"maxAliases":10000,"maxAliasNodes":1000000}}' >"$s/limits-largest.json"
printf 'limits: {maxBytes: 16777217, maxDepth: 129, maxAliases: 10001, maxAliasNodes: 1000000000}\n' >"$s/limits-above.yaml"
printf '{"images":{"allow":["\xff"]}}' >"$s/invalid-utf8.json"

seed() { # corpus dir, files...
  local dir="$1" f
  shift
  mkdir -p "$dir"
  for f in "$@"; do
    [ -f "$f" ] && cp "$f" "$dir/seed-$(echo "$f" | tr '/.' '__')"
  done
  return 0
}
shopt -s nullglob
manifests=(../fixtures/cases/*/input.* ../examples/*.yaml ../examples/*.json ../examples/*/*.yaml
  ../../shared/bench-inputs/*.json "$m"/*)
settings=(../fixtures/cases/*/settings.json ../policy-core/settings.schema.json "$s"/*)

# --- build once, then run each target ------------------------------------------------------------
cargo +nightly fuzz build
declare -A rate execs slowest rss status
failed=0
for target in "${targets[@]}"; do
  corpus="corpus/$target"
  case "$target" in
    settings) seed "$corpus" "${settings[@]}" ;;
    *) seed "$corpus" "${manifests[@]}" ;;
  esac
  log="corpus/$target.log"
  echo "fuzz: $target for ${secs}s"
  # The full log is kept; the CI log gets libFuzzer's summary lines and any failure.
  set +e
  cargo +nightly fuzz run "$target" "$corpus" -- -dict=yaml.dict -max_total_time="$secs" \
    -max_len="$max_len" -timeout=1 -rss_limit_mb=2048 -print_final_stats=1 2>&1 | tee "$log" |
    grep -E '^(==[0-9]+==|INFO: seed corpus|#[0-9]+[[:space:]]+DONE|SUMMARY|artifact_prefix|Test unit written|Base64)|panicked|[Tt]imeout|ERROR'
  rc="${PIPESTATUS[0]}"
  set -e
  if [ "$rc" -eq 0 ]; then status[$target]=ok; else status[$target]=FAILED; failed=1; fi
  final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  rate[$target]="$(final_stat average_exec_per_sec)"
  execs[$target]="$(final_stat number_of_executed_units)"
  slowest[$target]="$(final_stat slowest_unit_time_sec)"
  rss[$target]="$(final_stat peak_rss_mb)"
done

echo "fuzz: results (${secs}s per target, -max_len=$max_len, -timeout=1s)"
printf '  %-9s %-7s %10s %12s %12s %9s\n' target status exec/s executions slowest-s rss-mb
for target in "${targets[@]}"; do
  printf '  %-9s %-7s %10s %12s %12s %9s\n' "$target" "${status[$target]}" "${rate[$target]:-?}" \
    "${execs[$target]:-?}" "${slowest[$target]:-?}" "${rss[$target]:-?}"
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: FAILED (inputs under fuzz/artifacts/<target>/; logs under fuzz/corpus/<target>.log)"
  exit 1
fi
echo "fuzz: no crash"
