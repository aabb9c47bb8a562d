#!/usr/bin/env bash
# CI's end-to-end stage, run by .ci/run after `make test`, as root on a fresh machine: brings the
# local cluster up (hack/cluster, NetworkPolicy enforced by kube-router's firewall), builds the image without Docker and loads it, runs the e2e
# suite (which deploys the operator from config/), and always tears the cluster down. On failure
# it prints the cluster's state and the daemons' logs first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
export KUBECONFIG="$PWD/bin/cluster/kubeconfig"

step() { printf '\n=== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

dump_cluster() {
  step "cluster state after a failure"
  local kubectl=bin/k8s/kubectl
  if [[ -x $kubectl && -f $KUBECONFIG ]]; then
    "$kubectl" get nodes -o wide || true
    "$kubectl" get pods -A -o wide || true
    "$kubectl" get swarms -A -o wide || true
    "$kubectl" get events -A --sort-by=.lastTimestamp | tail -n 80 || true
  fi
  local f
  for f in bin/cluster/logs/*.log; do
    [[ -f $f ]] || continue
    echo "--- $f (last 60 lines)"
    tail -n 60 "$f"
  done
}

finish() {
  local rc=$?
  [[ $rc -eq 0 ]] || dump_cluster
  step "tearing the cluster down"
  make cluster-down || rc=1
  exit "$rc"
}
trap finish EXIT

step "cluster up (cold: builds Kubernetes, etcd, CoreDNS and kube-router from Go modules)"
make cluster-up
step "image built without Docker and loaded into containerd"
make cluster-load
step "e2e suite"
make test-e2e KUBECONFIG="$KUBECONFIG"
