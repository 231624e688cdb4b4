#!/usr/bin/env bash
# Native policies end to end (README, "Native policies"):
#  1. the differential: the upstream validating admission policy plugin
#     (k8s.io/apiserver v0.35.4, main.go here) evaluates what `cks-policy vap` emits for each
#     golden vector's settings over each vector's objects (the captured real requests
#     fixtures/cases/real-* included), and must agree with the core's expected.json on every
#     expressible rule, and the upstream mutating plugin's object must equal the core's patch;
#     then the CEL cost of every emitted expression (cost.go) within the API server's limits;
#  2. the real API server (kube-apiserver v1.35.4 and v1.37.2 from e2e/build-k8s.sh, on
#     127.0.0.1 under `timeout`, stopped by PID): the emitted policies apply, type-check
#     (`status.typeChecking` empty), deny a violating Pod and Deployment, admit a good Pod and a
#     pod of 100 containers x 100 env vars, and let `kubectl label` through on an old violating
#     Deployment (ratcheting); on 1.36+ the MutatingAdmissionPolicy appends the `is_cpu_compute`
#     toleration to a CPU Pod and not to a GPU Pod.
#
# Outside CI a missing Go, etcd or Kubernetes build is reported as SKIPPED and the run exits 0;
# under CI=true it is a failure. NATIVE_VERSIONS overrides the API server versions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
start=$(date +%s)
target=${CARGO_TARGET_DIR:-$root/target}
case "$target" in /*) ;; *) target="$root/$target" ;; esac
life=${E2E_TIMEOUT:-600}

say() { echo "native [$(($(date +%s) - start))s] $*"; }
skip() {
  if [ "${CI:-}" = true ]; then
    echo "native: FAILED (CI=true, nothing may be skipped): $*" >&2
    exit 1
  fi
  echo "################################################################" >&2
  echo "native: SKIPPED: $*" >&2
  echo "native: (under CI=true this is a failure)" >&2
  echo "################################################################" >&2
  exit 0
}
command -v go >/dev/null || skip "go is not installed (the differential runs the upstream plugin in Go)"

work=$(mktemp -d "${TMPDIR:-/tmp}/cks-native.XXXXXX")
pids=()
tag=native
logs="$work"
# shellcheck source=e2e/lib.sh
source "$root/e2e/lib.sh"
stop_all() { # TERM, then KILL whatever (and whose child) is still there after 15 s
  local pid i
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 75; i++)); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  local rc=$?
  stop_all
  if [ "$rc" -ne 0 ]; then echo "native: work directory kept: $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "cks-policy CLI and the differential (k8s.io/apiserver v0.35.4)"
cargo build -q -p cks-policy-cli --locked
cli="$target/debug/cks-policy"
(cd "$here" && GOFLAGS=-mod=mod go build -o "$work/differential" .)

say "differential over fixtures/cases"
"$work/differential" -cks "$cli" -cases "$root/fixtures/cases" 2>"$work/differential.log"
say "CEL cost of every emitted expression (estimate, and runtime on a pod of 100 containers x 100 env vars)"
"$work/differential" -cost -cks "$cli" 2>>"$work/differential.log"

# --- the real API server --------------------------------------------------------------------
command -v openssl >/dev/null || skip "openssl is not installed"
command -v etcd >/dev/null || skip "etcd is not installed (e2e/run.sh installs etcd-server)"

pki="$work/pki"
make_pki native-ca

# Settings for the server runs: broad-toleration at `error`, so a violation is denied.
cat > "$work/settings.yaml" <<'EOF'
rules:
  broad-toleration: {severity: error}
EOF

pod() { # name tolerations-json
  cat <<EOF
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "$1", "namespace": "default"},
 "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1.0"}], "tolerations": $2}}
EOF
}
deployment() { # name tolerations-json
  cat <<EOF
{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "$1", "namespace": "default"},
 "spec": {"selector": {"matchLabels": {"app": "$1"}}, "template": {"metadata": {"labels": {"app": "$1"}},
  "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1.0"}], "tolerations": $2}}}}
EOF
}
big_pod() { # 100 containers x 100 env vars, each with a toleration
  python3 - <<'PY'
import json
cs = [{"name": f"c{i}", "image": "registry.example.com/app:1.0",
       "env": [{"name": f"V{j}", "value": "x" * 16} for j in range(100)]} for i in range(100)]
tol = [{"key": f"example.com/t{i}", "operator": "Exists", "effect": "NoSchedule"} for i in range(100)]
print(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big", "namespace": "default"},
                  "spec": {"containers": cs, "tolerations": tol}}))
PY
}

broad='[{"operator": "Exists"}]'
specific='[{"key": "example.com/dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}]'

server() { # version
  local version=$1 bin api_port
  set +e
  bin=$(bash "$root/e2e/build-k8s.sh" "$version")
  local rc=$?
  set -e
  [ "$rc" -eq 0 ] && [ -x "$bin/kube-apiserver" ] || skip "e2e/build-k8s.sh $version failed (exit $rc)"
  local kubectl="$bin/kubectl" minor
  minor=$(echo "$version" | sed -E 's/^v?1\.([0-9]+).*/\1/')
  api_port=$(free_port)
  start_etcd native
  say "kube-apiserver $version on 127.0.0.1:$api_port"
  # No controller-manager makes the `default` ServiceAccount: the ServiceAccount admission
  # plugin is off, as envtest runs it.
  start_apiserver "$bin/kube-apiserver" native --disable-admission-plugins=ServiceAccount
  k() { "$kubectl" --kubeconfig "$work/kubeconfig" "$@"; }
  # The type checker that fills status.typeChecking runs in kube-controller-manager.
  local kcm_port
  kcm_port=$(free_port)
  timeout "$life" "$bin/kube-controller-manager" --kubeconfig="$work/kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$kcm_port" --leader-elect=false \
    --controllers=validatingadmissionpolicy-status-controller \
    >"$work/kube-controller-manager.log" 2>&1 &
  pids+=($!)

  # An old violating Deployment, created before the policies exist.
  deployment old "$broad" | k create -f - >/dev/null

  say "$version: apply \`cks-policy vap --kubernetes-version 1.$minor\`"
  "$cli" vap --settings "$work/settings.yaml" --kubernetes-version "1.$minor" > "$work/vap.yaml" 2>"$work/vap.notes"
  k apply -f "$work/vap.yaml" >/dev/null
  local n
  n=$(grep -c '^kind: "ValidatingAdmissionPolicy"$' "$work/vap.yaml")
  # The type checker writes status.typeChecking once per policy generation.
  local checked=0 i
  for ((i = 0; i < 150; i++)); do
    checked=$(k get validatingadmissionpolicies -o json | python3 -c '
import json, sys
items = [p for p in json.load(sys.stdin)["items"] if p["metadata"]["name"].startswith("cks-policy-")]
done = [p for p in items if p.get("status", {}).get("observedGeneration") == p["metadata"]["generation"]]
bad = [(p["metadata"]["name"], p["status"].get("typeChecking")) for p in done
       if (p["status"].get("typeChecking") or {}).get("expressionWarnings")]
for b in bad: print("typeChecking:", b, file=sys.stderr)
print(-1 if bad else len(done))')
    [ "$checked" = -1 ] && { echo "native: FAILED: status.typeChecking has warnings" >&2; exit 1; }
    [ "$checked" = "$n" ] && break
    sleep 0.2
  done
  [ "$checked" = "$n" ] || { echo "native: FAILED: $checked of $n policies type-checked" >&2; exit 1; }
  say "$version: $n policies applied, status.typeChecking empty on all"

  # Enforcement starts a moment after apply: retry until the violating Pod is denied.
  local out denied=0
  for ((i = 0; i < 100; i++)); do
    if out=$(pod bad "$broad" | k create --dry-run=server -f - 2>&1); then sleep 0.2; continue; fi
    denied=1; break
  done
  [ "$denied" = 1 ] && grep -q "broad-toleration:" <<<"$out" \
    || { echo "native: FAILED: a Pod tolerating every taint was not denied: $out" >&2; exit 1; }
  say "$version: violating Pod denied: $(grep -o "denied request: broad-toleration:[^;]*" <<<"$out" | head -1)"
  out=$(pod good "$specific" | k create -f - 2>&1) || { echo "native: FAILED: good Pod refused: $out" >&2; exit 1; }
  say "$version: good Pod admitted"
  if out=$(deployment new "$broad" | k create -f - 2>&1); then
    echo "native: FAILED: violating Deployment admitted" >&2; exit 1
  fi
  say "$version: violating Deployment denied"
  out=$(k label deployment old example.com/touched=yes 2>&1) || { echo "native: FAILED: kubectl label on the old Deployment refused: $out" >&2; exit 1; }
  grep -q "predates the update" <<<"$out" || { echo "native: FAILED: no ratcheting warning: $out" >&2; exit 1; }
  say "$version: kubectl label on the old violating Deployment admitted with a warning (ratcheting)"
  if out=$(k patch deployment old --type=json -p '[{"op":"add","path":"/spec/template/spec/tolerations/-","value":{"key":"node.coreweave.cloud/reserved","operator":"Exists"}}]' 2>&1); then
    echo "native: FAILED: a new broad toleration on the old Deployment was admitted" >&2; exit 1
  fi
  say "$version: a new broad toleration on the old Deployment denied"
  # dra-claim-unused (a warning by default): a claim no container lists is admitted with a
  # kubectl warning naming the rule.
  echo '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "dra", "namespace": "default"},
    "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1.0"}],
    "resourceClaims": [{"name": "gpu", "resourceClaimName": "gpu-claim"}]}}' > "$work/dra.json"
  for ((i = 0; i < 50; i++)); do
    out=$(k create --dry-run=server -f "$work/dra.json" 2>&1) \
      || { echo "native: FAILED: Pod with an unused claim refused: $out" >&2; exit 1; }
    grep -q "dra-claim-unused:" <<<"$out" && break
    sleep 0.2
  done
  grep -q "dra-claim-unused:" <<<"$out" || { echo "native: FAILED: no dra-claim-unused warning: $out" >&2; k get validatingadmissionpolicy cks-policy-dra-claim-unused-pods -o yaml | tail -20 >&2; exit 1; }
  say "$version: Pod with an unused DRA claim admitted with the dra-claim-unused warning"
  if [ "$minor" -ge 36 ]; then
    # The MutatingAdmissionPolicy (GA from 1.36): a Pod that requests no accelerator gets the
    # `is_cpu_compute` toleration appended; a GPU Pod does not.
    grep -q '^kind: "MutatingAdmissionPolicy"$' "$work/vap.yaml" \
      || { echo "native: FAILED: no MutatingAdmissionPolicy emitted for 1.$minor" >&2; exit 1; }
    local got=""
    for ((i = 0; i < 100; i++)); do
      got=$(pod cpu "$specific" | k create --dry-run=server -o json -f - | python3 -c '
import json, sys
t = json.load(sys.stdin)["spec"].get("tolerations", [])
print(json.dumps(t, sort_keys=True))')
      grep -q is_cpu_compute <<<"$got" && break
      sleep 0.2
    done
    # Exactly one `is_cpu_compute` toleration, as the core appends it, after the Pod's own (other
    # built-in admission plugins, DefaultTolerationSeconds, may add theirs too).
    python3 -c '
import json, sys
t = json.loads(sys.argv[1])
cpu = [x for x in t if x.get("key") == "is_cpu_compute"]
own = [x for x in t if x.get("key") == "example.com/dedicated"]
sys.exit(0 if cpu == [{"effect": "NoSchedule", "key": "is_cpu_compute", "operator": "Exists"}] and len(own) == 1 else 1)' "$got" \
      || { echo "native: FAILED: the CPU Pod's tolerations are $got" >&2; exit 1; }
    say "$version: MutatingAdmissionPolicy appended {key: is_cpu_compute, operator: Exists, effect: NoSchedule} to a CPU Pod"
    got=$(echo '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gpu", "namespace": "default"},
      "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1.0",
      "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}' | k create --dry-run=server -o json -f - \
      | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["spec"].get("tolerations", [])))')
    grep -q is_cpu_compute <<<"$got" && { echo "native: FAILED: the GPU Pod got $got" >&2; exit 1; }
    say "$version: a GPU Pod is left without it"
  else
    grep -q "needs the webhook or Kubewarden" "$work/vap.notes" \
      || { echo "native: FAILED: no note that the mutation needs the webhook on 1.$minor" >&2; exit 1; }
  fi
  big_pod > "$work/big.json"
  out=$(k create -f "$work/big.json" 2>&1) || { echo "native: FAILED: pod of 100 containers x 100 env vars refused: $out" >&2; exit 1; }
  say "$version: pod of 100 containers x 100 env vars and 100 tolerations admitted (within the CEL cost budget)"
  # Where the runtime cost budget ends: a Deployment with N specific tolerations, created, then
  # labelled (the UPDATE compares every toleration with every one of oldObject).
  local largest_create=0 largest_update=0 tols
  for n in 100 300 1000 3000; do
    tols=$(python3 -c "import json; print(json.dumps([{'key': f'example.com/t{i}', 'operator': 'Exists', 'effect': 'NoSchedule'} for i in range($n)]))")
    deployment "cost-$n" "$tols" > "$work/cost.json"
    if k create -f "$work/cost.json" >"$work/cost.out" 2>&1; then
      largest_create=$n
      if k label deployment "cost-$n" example.com/touched=yes >"$work/cost.out" 2>&1; then
        largest_update=$n
      else
        say "$version: UPDATE with $n tolerations refused: $(grep -o 'cost[^.]*' "$work/cost.out" | head -1)"
      fi
    else
      say "$version: CREATE with $n tolerations refused: $(grep -o 'cost[^.]*' "$work/cost.out" | head -1)"
    fi
  done
  say "$version: cost probe: largest Deployment admitted on CREATE: $largest_create tolerations; on UPDATE (kubectl label): $largest_update"
  stop_all
}

for v in ${NATIVE_VERSIONS:-v1.35.4 v1.37.2}; do
  server "$v"
done
say "done"
