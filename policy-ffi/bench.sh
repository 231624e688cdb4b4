#!/usr/bin/env bash
# Per-call overhead of the Go and Python bindings over native Rust, on the same inputs in the
# same run. Run policy-ffi/test.sh first (it builds the Go library copy and the Python venv).
#
#   bash policy-ffi/bench.sh [BENCH_INPUT_DIR] [ROUNDS]
#
# Each round runs native, Go and Python one after the other; the table keeps each figure's
# best round, the one least disturbed by other work on the machine. "empty" is an empty input,
# where the core does almost nothing: its difference is the binding's pure per-call overhead.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
inputs=$(cd "${1:-$root/../shared/bench-inputs}" && pwd)
rounds=${2:-3}
venv="$root/policy-ffi/python/.venv"
[ -x "$venv/bin/python" ] || { echo "run policy-ffi/test.sh first (no $venv)" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

cd "$root"
cargo build -q -p cks-policy-ffi --profile ffi --example bench 2>/dev/null \
  || cargo build -p cks-policy-ffi --profile ffi --example bench
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  cargo run -q -p cks-policy-ffi --profile ffi --example bench -- "$inputs" 1 2>/dev/null >>"$out"
  (cd policy-ffi/go && CKS_BENCH_INPUTS="$inputs" go test -run '^$' \
    -bench '^Benchmark(Review|EvaluateJSON|EvaluateEmpty)$' -benchtime 1s -count 1 .) |
    awk '/^Benchmark/ {
      name = $1; sub(/-[0-9]+$/, "", name); split(name, parts, "/")
      op = parts[1] == "BenchmarkReview" ? "review" : "evaluate"
      file = parts[1] == "BenchmarkEvaluateEmpty" ? "(empty)" : parts[2]
      printf "go %s %s %.3f\n", op, file, $3 / 1000 }' >>"$out"
  (cd /tmp && "$venv/bin/python" "$root/policy-ffi/python/bench.py" "$inputs" 1) >>"$out"
done

"$venv/bin/python" - "$out" <<'EOF'
import sys
best = {}
for line in open(sys.argv[1]):
    lang, op, file, us = line.split()
    key = (lang, op, file)
    best[key] = min(best.get(key, float("inf")), float(us))
rows = sorted({(op, file) for _, op, file in best}, key=lambda k: (k[1] != "(empty)", k))
print(f"{'call':<10}{'input':<24}{'native us':>11}{'go us':>10}{'go +us':>9}{'python us':>11}{'py +us':>9}")
for op, file in rows:
    n, g, p = (best.get((lang, op, file)) for lang in ("native", "go", "python"))
    fmt = lambda v: f"{v:.2f}" if v is not None else "-"
    diff = lambda v: f"{v - n:+.2f}" if v is not None and n is not None else "-"
    print(f"{op:<10}{file:<24}{fmt(n):>11}{fmt(g):>10}{diff(g):>9}{fmt(p):>11}{diff(p):>9}")
EOF
