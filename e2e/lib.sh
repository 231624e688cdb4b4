# Shared by e2e/run.sh and e2e/native/run.sh: free ports, waiting for a server, certificates,
# and etcd plus kube-apiserver on 127.0.0.1 (each under `timeout`, its PID added to `pids`).
# The caller sets `tag` (message prefix), `work`, `logs` (log directory), `life` (seconds a
# server may live) and `pids` (an array), and sources this file.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() { # what seconds command...
  local what=$1 secs=$2 i
  shift 2
  for ((i = 0; i < secs * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "$tag: $what not ready after ${secs}s; log tail:" >&2
  tail -n 30 "$logs/$what.log" >&2 || true
  exit 1
}

# A CA, the API server's serving cert, an admin client cert in system:masters, the service-account
# key pair, and a serving cert for each further name given, in $pki.
make_pki() { # ca-common-name [serving-cert-name common-name]...
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
      -subj "/CN=$1" 2>/dev/null
    shift
    sign() { # name subject extensions
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      printf '%b' "$3" > "$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    }
    serving='subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
    sign apiserver "/CN=kube-apiserver" "$serving"
    while [ "$#" -ge 2 ]; do
      sign "$1" "/CN=$2" "$serving"
      shift 2
    done
    sign admin "/O=system:masters/CN=admin" 'extendedKeyUsage=clientAuth\n'
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

# etcd on a free port with a fresh data directory; sets etcd_port.
start_etcd() { # member-name
  local peer_port
  etcd_port=$(free_port)
  peer_port=$(free_port)
  rm -rf "$work/etcd"
  timeout "$life" etcd --name "$1" --data-dir "$work/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "$1=http://127.0.0.1:$peer_port" >"$logs/etcd.log" 2>&1 &
  pids+=($!)
  wait_for etcd 30 curl -sf "http://127.0.0.1:$etcd_port/health"
}

# kube-apiserver on $api_port over the etcd of start_etcd, with RBAC and client certificates;
# waits for /readyz and writes $work/kubeconfig for the admin (context named `cluster`).
start_apiserver() { # kube-apiserver cluster [extra flag]...
  local bin=$1 cluster=$2
  shift 2
  timeout "$life" "$bin" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --endpoint-reconciler-type=none "$@" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --profiling=false >"$logs/kube-apiserver.log" 2>&1 &
  pids+=($!)
  wait_for kube-apiserver 90 curl -sf --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://127.0.0.1:$api_port/readyz"
  cat > "$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $cluster
  cluster: {server: "https://127.0.0.1:$api_port", certificate-authority: "$pki/ca.crt"}
users:
- name: admin
  user: {client-certificate: "$pki/admin.crt", client-key: "$pki/admin.key"}
contexts:
- name: $cluster
  context: {cluster: $cluster, user: admin, namespace: default}
current-context: $cluster
EOF
}
