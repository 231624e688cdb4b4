#!/usr/bin/env bash
# Admission end to end against a real control plane: etcd (Debian's etcd-server),
# kube-apiserver and kube-controller-manager (built from the Go module proxy by
# e2e/build-k8s.sh, cached outside the repository) on 127.0.0.1, the Go webhook
# (policy-ffi/go/examples/webhook, the static library linked in) registered over TLS, and
# kubectl driving the scenarios in e2e/scenarios.py.
#
#   bash e2e/run.sh            # K8S_VERSION=v1.37.2 for another version
#
# Outside CI, a missing Go, etcd or a failed Kubernetes build is reported as SKIPPED and the run
# exits 0; under CI=true it is a failure. Every process runs under `timeout` and is stopped by
# PID on exit. Nothing is written into the repository unless E2E_SAVE_VECTORS=1 (below);
# E2E_KEEP=1 keeps the work directory (captured AdmissionReviews in capture/, index.json names them).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
start=$(date +%s)
target=${CARGO_TARGET_DIR:-$root/target}
case "$target" in /*) ;; *) target="$root/$target" ;; esac
# The longest any process may live; the whole run takes well under it once binaries are cached.
life=${E2E_TIMEOUT:-900}

say() { echo "e2e [$(($(date +%s) - start))s] $*"; }
skip() {
  if [ "${CI:-}" = true ]; then
    echo "e2e: FAILED (CI=true, nothing may be skipped): $*" >&2
    exit 1
  fi
  echo "################################################################" >&2
  echo "e2e: SKIPPED every end-to-end scenario: $*" >&2
  echo "e2e: (under CI=true this is a failure)" >&2
  echo "################################################################" >&2
  exit 0
}

command -v go >/dev/null || skip "go is not installed (it builds kube-apiserver and the webhook)"
command -v openssl >/dev/null || skip "openssl is not installed"
if ! command -v etcd >/dev/null; then
  say "apt-get install etcd-server"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  apt_install() { DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq etcd-server >/dev/null; }
  # A fresh machine's package lists may be stale or absent: update once and retry.
  apt_install || { $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq && apt_install; } \
    || skip "etcd is missing and apt-get install etcd-server failed"
fi
python3 -c 'import yaml' 2>/dev/null || skip "python3 with PyYAML is missing (.ci/install installs it)"

say "kube-apiserver and kubectl ${K8S_VERSION:-(default version)} (built once into the cache)"
set +e
bin=$(bash "$root/e2e/build-k8s.sh")
rc=$?
set -e
[ "$rc" -eq 0 ] && [ -x "$bin/kube-apiserver" ] || skip "e2e/build-k8s.sh failed (exit $rc)"
kubectl="$bin/kubectl"

work=$(mktemp -d "${TMPDIR:-/tmp}/cks-e2e.XXXXXX")
pids=()
tag=e2e
logs="$work/log"
# shellcheck source=e2e/lib.sh
source "$root/e2e/lib.sh"
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${E2E_KEEP:-}" = 1 ] || [ "$rc" -ne 0 ]; then
    echo "e2e: work directory kept: $work (logs in $work/log)" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/log" "$work/capture" "$work/pki"

say "cks-policy CLI and the webhook (libcks_policy.a, ffi profile)"
cargo build -q -p cks-policy-cli --locked
cargo build -q -p cks-policy-ffi --profile ffi --locked
mkdir -p "$work/lib"
cp "$target/ffi/libcks_policy.a" "$work/lib/"
# CGO_LDFLAGS points cgo at a copy outside the repository (policy-ffi/README.md).
(cd policy-ffi/go && CGO_LDFLAGS="-L$work/lib" go build -o "$work/webhook" ./examples/webhook)
(cd e2e/latency && go build -o "$work/latency" .)
cli="$target/debug/cks-policy"

say "certificates (CA; API server and webhook serving certs; admin client in system:masters; SA keys)"
pki="$work/pki"
make_pki cks-policy-e2e-ca webhook cks-policy-webhook

api_port=$(free_port); hook_port=$(free_port); bench_port=$(free_port)
start_etcd e2e
say "etcd on 127.0.0.1:$etcd_port"

say "kube-apiserver $("$bin/kube-apiserver" --version | awk '{print $2}') on 127.0.0.1:$api_port"
start_apiserver "$bin/kube-apiserver" e2e

# The controllers of the Deployment -> ReplicaSet -> Pod chain, each under its own service
# account (--use-service-account-credentials, as kubeadm runs it), and the ones that make the
# `default` ServiceAccounts and their tokens.
kcm_port=$(free_port)
say "kube-controller-manager (deployment, replicaset, serviceaccount controllers) on 127.0.0.1:$kcm_port"
timeout "$life" "$bin/kube-controller-manager" --kubeconfig="$work/kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$kcm_port" --leader-elect=false \
  --controllers=deployment-controller,replicaset-controller,serviceaccount-controller,serviceaccount-token-controller \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  >"$work/log/kube-controller-manager.log" 2>&1 &
pids+=($!)
wait_for kube-controller-manager 60 "$kubectl" --kubeconfig "$work/kubeconfig" get serviceaccount default

say "webhook on 127.0.0.1:$hook_port (captures every AdmissionReview)"
timeout "$life" "$work/webhook" -addr "127.0.0.1:$hook_port" \
  -tls-cert "$pki/webhook.crt" -tls-key "$pki/webhook.key" -capture "$work/capture" \
  >"$work/log/webhook.log" 2>&1 &
pids+=($!)
wait_for webhook 30 curl -sf --cacert "$pki/ca.crt" "https://127.0.0.1:$hook_port/healthz"
# A second instance that captures nothing, for the latency figures.
timeout "$life" "$work/webhook" -addr "127.0.0.1:$bench_port" \
  -tls-cert "$pki/webhook.crt" -tls-key "$pki/webhook.key" >"$work/log/webhook-bench.log" 2>&1 &
pids+=($!)
wait_for webhook-bench 30 curl -sf --cacert "$pki/ca.crt" "https://127.0.0.1:$bench_port/healthz"

# A third instance with small input limits, for a request over limits.maxBytes.
small_port=$(free_port)
printf 'limits:\n  maxBytes: 65536\n' > "$work/small-limits.yaml"
mkdir -p "$work/capture-small"
timeout "$life" "$work/webhook" -addr "127.0.0.1:$small_port" -settings "$work/small-limits.yaml" \
  -tls-cert "$pki/webhook.crt" -tls-key "$pki/webhook.key" -capture "$work/capture-small" \
  >"$work/log/webhook-small.log" 2>&1 &
pids+=($!)
wait_for webhook-small 30 curl -sf --cacert "$pki/ca.crt" "https://127.0.0.1:$small_port/healthz"

say "scenarios"
E2E_WORK="$work" E2E_KUBECTL="$kubectl" KUBECONFIG="$work/kubeconfig" E2E_CLI="$cli" \
  E2E_WEBHOOK_URL="https://127.0.0.1:$hook_port" E2E_DOWN_URL="https://127.0.0.1:$(free_port)" \
  E2E_CA_BUNDLE="$(base64 -w0 "$pki/ca.crt")" E2E_ROOT="$root" E2E_API_URL="https://127.0.0.1:$api_port" \
  E2E_SMALL_WEBHOOK_URL="https://127.0.0.1:$small_port" E2E_SMALL_SETTINGS="$work/small-limits.yaml" \
  E2E_BENCH_WEBHOOK_URL="https://127.0.0.1:$bench_port" E2E_NOOP_ADDR="127.0.0.1:$(free_port)" \
  timeout "$life" python3 "$root/e2e/scenarios.py"
if [ "${E2E_SAVE_VECTORS:-}" = 1 ]; then
  # On purpose only: the representative captured requests become golden vectors
  # fixtures/cases/real-<minor>-<label>/input.json; bless them with
  # UPDATE_FIXTURES=1 cargo test -p cks-policy-tests --test golden and read each expected.json.
  minor=$("$bin/kube-apiserver" --version | sed -E 's/.*v([0-9]+\.[0-9]+).*/\1/')
  python3 - "$work/capture" "$root/fixtures/cases" "$minor" <<'PY'
import json, os, shutil, sys
capture, cases, minor = sys.argv[1:]
for label, name in sorted(json.load(open(os.path.join(capture, "index.json"))).items()):
    d = os.path.join(cases, f"real-{minor}-{label}")
    os.makedirs(d, exist_ok=True)
    shutil.copyfile(os.path.join(capture, name), os.path.join(d, "input.json"))
    print(f"e2e: saved {name} as {os.path.relpath(d)}/input.json")
PY
fi
say "done"
