#!/usr/bin/env bash
# Imports image tarballs (docker-archive, as hack/image writes them) into the local cluster's
# containerd, in the namespace the kubelet uses; pods then run them with imagePullPolicy Never.
#
#   hack/cluster/load.sh bin/minibit-image.tar [MORE.tar...]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[[ $# -gt 0 ]] || die "usage: $0 IMAGE.tar..."
pid_alive containerd || die "the local cluster's containerd is not running (make cluster-up)"
for tar in "$@"; do
  [[ -f $tar ]] || die "$tar: no such file"
  ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$tar" | sed 's/^/[cluster-load] /' >&2
done
