#!/usr/bin/env bash
# Instruction counts (valgrind callgrind) of bytes→verdict against the parse floor
# (`serde_json::from_slice::<Value>` of the same bytes), per bench input. Instruction counts are
# repeatable on a noisy machine, unlike wall time; criterion (`cargo bench -p policy-core`) gives
# the times. Usage: policy-core/callgrind.sh [BENCH_INPUT_DIR] [N]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
inputs=$(cd "${1:-$root/../shared/bench-inputs}" && pwd)
n=${2:-200}
cd "$root"
cargo build -q --release -p policy-core --example loop
bin=${CARGO_TARGET_DIR:-$root/target}/release/examples/loop
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() { # op file n -> instructions
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$bin" "$1" "$2" "$3" >/dev/null 2>"$tmp/err"
  grep -o 'Collected : [0-9]*' "$tmp/err" | grep -o '[0-9]*$'
}
printf '| input | bytes | parse floor (instr/call) | evaluate (instr/call) | ratio | review (instr/call) | ratio |\n|---|---|---|---|---|---|---|\n'
for f in "$inputs"/*.json; do
  per() { # op -> instructions per call, start-up subtracted
    local one many
    one=$(count "$1" "$f" 1)
    many=$(count "$1" "$f" $((n + 1)))
    echo $(((many - one) / n))
  }
  p=$(per parse); e=$(per evaluate); r=$(per review)
  printf '| %s | %s | %s | %s | %s× | %s | %s× |\n' "$(basename "$f")" "$(wc -c <"$f")" "$p" "$e" \
    "$(python3 -c "print(f'{$e/$p:.2f}')")" "$r" "$(python3 -c "print(f'{$r/$p:.2f}')")"
done

# Compiling settings into a `Policy` (what a fresh Kubewarden instance pays on every request):
# `Policy::new(Settings::default())`, and `Policy::from_slice` of the settings in
# policy-core/benches/settings/ (`default.json` is empty: the defaults through the text path;
# `readme.json` is the Kubewarden README's example).
printf '\n| settings | instr/compile |\n|---|---|\n'
percompile() { # op file -> instructions per call, start-up subtracted
  local one many
  one=$(count "$1" "$2" 1)
  many=$(count "$1" "$2" $((n + 1)))
  echo $(((many - one) / n))
}
printf '| Policy::new(Settings::default()) | %s |\n' "$(percompile policy-default /dev/null)"
for f in "$root"/policy-core/benches/settings/*.json; do
  printf '| from_slice %s | %s |\n' "$(basename "$f")" "$(percompile compile "$f")"
done
