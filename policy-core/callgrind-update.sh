#!/usr/bin/env bash
# Instruction counts (callgrind) of UPDATE ratcheting (issue 10): each bench input as a CREATE,
# as an UPDATE whose oldObject is the same object (every finding predates it, so the old object
# is judged too), and a finding-free Pod as CREATE and UPDATE (the old object is never judged).
# Usage: policy-core/callgrind-update.sh [BENCH_INPUT_DIR] [N]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
inputs=$(cd "${1:-$root/../shared/bench-inputs}" && pwd)
n=${2:-100}
cd "$root"
cargo build -q --release -p policy-core --example loop
bin=${CARGO_TARGET_DIR:-$root/target}/release/examples/loop
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$inputs" "$tmp" <<'PY'
import copy, json, sys
src, out = sys.argv[1], sys.argv[2]
def update(r):
    u = copy.deepcopy(r)
    u["request"]["operation"] = "UPDATE"
    u["request"]["oldObject"] = copy.deepcopy(r["request"]["object"])
    return u
for name in ["pod-small", "deployment-small"]:
    r = json.load(open(f"{src}/{name}.json"))
    json.dump(r, open(f"{out}/{name}.json", "w"))
    json.dump(update(r), open(f"{out}/{name}-update.json", "w"))
# pod-small without its findings: images pinned, CPU toleration, no legacy selector or labels.
r = json.load(open(f"{src}/pod-small.json"))
o = r["request"]["object"]
for key in ("containers", "initContainers"):
    for c in o["spec"].get(key) or []:
        c["image"] = "registry.example.com/app@sha256:" + "a" * 64
        c.pop("imagePullPolicy", None)
o["spec"]["tolerations"] = [{"key": "is_cpu_compute", "operator": "Exists", "effect": "NoSchedule"}]
o["spec"].pop("nodeSelector", None)
o["spec"].pop("affinity", None)
labels = o["metadata"].get("labels", {})
for k in [k for k in labels if "coreweave" in k]:
    labels.pop(k)
json.dump(r, open(f"{out}/pod-clean.json", "w"))
json.dump(update(r), open(f"{out}/pod-clean-update.json", "w"))
PY
count() {
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$bin" evaluate "$1" "$2" >/dev/null 2>"$tmp/err"
  grep -o 'Collected : [0-9]*' "$tmp/err" | grep -o '[0-9]*$'
}
per() { echo $((($(count "$1" $((n + 1))) - $(count "$1" 1)) / n)); }
printf '| input | CREATE (instr/call) | UPDATE, old == new (instr/call) | ratio |\n|---|---|---|---|\n'
for f in pod-clean pod-small deployment-small; do
  c=$(per "$tmp/$f.json"); u=$(per "$tmp/$f-update.json")
  printf '| %s | %s | %s | %s× |\n' "$f" "$c" "$u" "$(python3 -c "print(f'{$u/$c:.2f}')")"
done
