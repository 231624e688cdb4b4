#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kubectl from the Go module proxy into a cache
# outside the repository, once per version: ${CKS_K8S_CACHE:-~/.cache/cks-policy/k8s}/vX.Y.Z/bin.
# Prints that bin directory on stdout (progress goes to stderr).
#
# k8s.io/kubernetes' own go.mod replaces its staging modules with ./staging/..., which a module zip
# does not hold, so it is built from a scratch module that requires k8s.io/kubernetes vX.Y.Z and
# replaces every k8s.io/<staging> module with its published v0.Y.Z (the k8s.io/sample-* ones are
# not served and not needed). A cold build is ~600 CPU-seconds and ~3 GB of Go build cache.
#
# Usage: e2e/build-k8s.sh [vX.Y.Z]   (default: $K8S_VERSION, else v1.35.4, a version CKS runs)
set -euo pipefail
version="${1:-${K8S_VERSION:-v1.35.4}}"
case "$version" in v*) ;; *) version="v$version" ;; esac
cache="${CKS_K8S_CACHE:-$HOME/.cache/cks-policy/k8s}/$version"
bin="$cache/bin"
tools=(kube-apiserver kube-controller-manager kubectl)

have_all() { for t in "${tools[@]}"; do [ -x "$bin/$t" ] || return 1; done; }
if have_all; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "build-k8s: go is not installed" >&2; exit 3; }
minor="${version#v1.}"; minor="${minor%%.*}"
patch="${version##*.}"
staging_version="v0.$minor.$patch"

mod="$cache/module"
mkdir -p "$mod" "$bin"
cd "$mod"
echo "build-k8s: building $version in $mod (first time only; several minutes)" >&2

# The staging modules k8s.io/kubernetes replaces, read from its own go.mod.
gomod=$(go mod download -json "k8s.io/kubernetes@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
staging=$(grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" | awk '{print $1}' | grep -v '^k8s.io/sample-' | sort -u)
[ -n "$staging" ] || { echo "build-k8s: no staging replaces found in $gomod" >&2; exit 1; }

{
  echo "module cks-policy.e2e/k8s"
  echo
  echo "go 1.24"
  echo
  echo "require k8s.io/kubernetes $version"
  echo
  echo "replace ("
  for m in $staging; do echo "	$m => $m $staging_version"; done
  echo ")"
} > go.mod
cat > tools.go <<'GO'
//go:build tools

// Package tools pins the commands this module builds.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubectl/pkg/cmd"
)
GO
GOFLAGS=-mod=mod go mod tidy -e >&2

ldflags="-s -w"
for v in gitVersion=$version gitMajor=1 gitMinor=$minor; do
  ldflags="$ldflags -X k8s.io/component-base/version.$v -X k8s.io/client-go/pkg/version.$v"
done
for t in "${tools[@]}"; do
  [ -x "$bin/$t" ] && continue
  echo "build-k8s: go build $t" >&2
  GOFLAGS=-mod=mod go build -ldflags "$ldflags" -o "$bin/$t.tmp" "k8s.io/kubernetes/cmd/$t" >&2
  mv "$bin/$t.tmp" "$bin/$t"
done
echo "$bin"
