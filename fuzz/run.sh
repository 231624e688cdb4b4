#!/usr/bin/env bash
# Short, bounded coverage-guided fuzz run of the bytes entry points (cargo-fuzz + libFuzzer on
# the nightly toolchain), its corpus seeded from the golden fixtures and the bench inputs.
# Usage: fuzz/run.sh [seconds-per-target]   (default 60)
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
for target in check review; do
  corpus="corpus/$target"
  mkdir -p "$corpus"
  for f in ../fixtures/cases/*/input.* ../examples/*.yaml ../examples/*.json ../../shared/bench-inputs/pod-small.json; do
    [ -f "$f" ] && cp "$f" "$corpus/seed-$(echo "$f" | tr '/.' '__')"
  done
  echo "fuzz: $target for ${secs}s"
  cargo +nightly fuzz run "$target" "$corpus" -- -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10
done
echo "fuzz: no crash"
