#!/usr/bin/env bash
# Builds the browser checker and serves it at http://localhost:${PORT:-8000}/ (Ctrl+C stops).
#   policy-wasm/web/serve.sh [PORT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${1:-${PORT:-8000}}
"$here/build.sh"
target_dir=${CARGO_TARGET_DIR:-$here/../../target}
case "$target_dir" in /*) ;; *) target_dir=$here/../../$target_dir ;; esac
out=${CKS_WEB_DIST:-$target_dir/web-dist}
echo "==> open http://localhost:$port/ (everything runs in the page; Ctrl+C stops the server)"
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory "$out"
