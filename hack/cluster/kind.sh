#!/usr/bin/env bash
# kind, for users with Docker (it cannot run on machines without a Docker engine, such as CI's):
# creates or deletes a kind cluster and loads the image tarball of `make image-tar` into it.
# Its kubeconfig goes to bin/cluster/kind-kubeconfig, which `make test-e2e KIND=1` uses.
#
#   hack/cluster/kind.sh up|load CLUSTER IMAGE.tar     hack/cluster/kind.sh down CLUSTER
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KUBECONFIG_OUT="$REPO_ROOT/bin/cluster/kind-kubeconfig"
cmd=${1:-} cluster=${2:-minibit} tar=${3:-$REPO_ROOT/bin/minibit-image.tar}
command -v kind >/dev/null || { echo "kind.sh: kind is not installed (https://kind.sigs.k8s.io)" >&2; exit 1; }

case "$cmd" in
  up)
    kind get clusters | grep -x "$cluster" >/dev/null || kind create cluster --name "$cluster" --wait 180s
    mkdir -p "$(dirname "$KUBECONFIG_OUT")"
    kind get kubeconfig --name "$cluster" >"$KUBECONFIG_OUT"
    kind load image-archive "$tar" --name "$cluster"
    echo "export KUBECONFIG=$KUBECONFIG_OUT"
    ;;
  load) kind load image-archive "$tar" --name "$cluster" ;;
  down) kind delete cluster --name "$cluster"; rm -f "$KUBECONFIG_OUT" ;;
  *) echo "usage: $0 up|load|down CLUSTER [IMAGE.tar]" >&2; exit 2 ;;
esac
