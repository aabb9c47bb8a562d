#!/usr/bin/env bash
# An experimental second node for the local cluster, on the same machine: its own containerd
# (root, state, socket), its own pod bridge and range (cni1, 10.244.1.0/24), its own kubelet
# (node minibit-node2 at 10.245.0.2, its own cgroup root), and its own mount namespace in which
# /var/lib/kubelet, /var/log/containers and /var/lib/minibit (the node cache) are directories of
# its own, so that hostPath volumes on the two nodes are different directories. It registers
# with the taint minibit.io/second-node:NoSchedule, so only pods that tolerate it land there
# (kube-router enforces NetworkPolicy on the first node only). Not used by CI.
#
#   hack/cluster/node2.sh up | down     (as root, with the cluster of up.sh running)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$CLUSTER_DIR/pki.sh"
source "$CLUSTER_DIR/configs.sh"

N2_STATE=/var/lib/minibit-node2
N2_RUN=/run/minibit-node2
N2_NAME=minibit-node2
N2_IP=10.245.0.2
N2_HEALTHZ=10258
HOLDER_PID="$N2_RUN/mountns.pid"

kctl() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_OUT" "$@"; }
in_ns() { nsenter --mount="/proc/$(cat "$HOLDER_PID")/ns/mnt" -- "$@"; }

up() {
  [[ $(id -u) -eq 0 ]] || die "must run as root"
  pid_alive kube-apiserver || die "the cluster is not running (make cluster-up first)"
  mkdir -p "$N2_STATE" "$N2_RUN" "$N2_STATE/var-lib-kubelet" "$N2_STATE/var-log-containers" "$N2_STATE/minibit"
  ip addr show dev lo | has "inet $N2_IP/32" || ip addr add "$N2_IP/32" dev lo
  # Certificates of the second kubelet, signed by the cluster's CA.
  new_cert ca kubelet-node2 "/CN=$N2_NAME" serverAuth "IP:$N2_IP,DNS:$N2_NAME"
  new_cert ca kubelet-client-node2 "/O=system:nodes/CN=system:node:$N2_NAME" clientAuth
  # The first node's configuration writers, pointed at the second node's paths and addresses.
  STATE_DIR=$N2_STATE CONTAINERD_STATE=$N2_RUN/containerd CONTAINERD_SOCK=$N2_RUN/containerd.sock \
    BRIDGE=cni1 POD_CIDR=10.244.1.0/24 POD_GATEWAY=10.244.1.1 NODE_IP=$N2_IP NODE_NAME=$N2_NAME \
    bash -c "source '$CLUSTER_DIR/lib.sh'; source '$CLUSTER_DIR/pki.sh'; source '$CLUSTER_DIR/configs.sh'
      STATE_DIR=$N2_STATE; CONTAINERD_STATE=$N2_RUN/containerd; CONTAINERD_SOCK=$N2_RUN/containerd.sock
      BRIDGE=cni1; POD_CIDR=10.244.1.0/24; POD_GATEWAY=10.244.1.1; NODE_IP=$N2_IP; NODE_NAME=$N2_NAME
      write_containerd_config; write_cni_config; write_kubelet_config
      write_kubeconfig $N2_STATE/kubelet.kubeconfig kubelet-client-node2"
  sed -i "s|^healthzPort: .*|healthzPort: $N2_HEALTHZ|; s|tlsCertFile: .*|tlsCertFile: $PKI_DIR/kubelet-node2.crt|; s|tlsPrivateKeyFile: .*|tlsPrivateKeyFile: $PKI_DIR/kubelet-node2.key|" "$N2_STATE/kubelet.yaml"
  cat >>"$N2_STATE/kubelet.yaml" <<YAML
cgroupRoot: /minibit-node2
registerWithTaints: [{key: minibit.io/second-node, value: "true", effect: NoSchedule}]
YAML
  # The node's own cgroup root in every v1 hierarchy (cpuset needs its cpus and mems set).
  local h
  for h in /sys/fs/cgroup/*/; do
    [[ -d $h && ! -L ${h%/} ]] || continue
    mkdir -p "$h/minibit-node2"
  done
  if [[ -d /sys/fs/cgroup/cpuset/minibit-node2 ]]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus >/sys/fs/cgroup/cpuset/minibit-node2/cpuset.cpus
    cat /sys/fs/cgroup/cpuset/cpuset.mems >/sys/fs/cgroup/cpuset/minibit-node2/cpuset.mems
  fi
  # The node's own mount namespace: a holder process keeps it alive.
  setsid unshare --mount --propagation private -- sh -c "
    mount --bind '$N2_STATE/var-lib-kubelet' /var/lib/kubelet &&
    mount --bind '$N2_STATE/var-log-containers' /var/log/containers &&
    mkdir -p /var/lib/minibit && mount --bind '$N2_STATE/minibit' /var/lib/minibit &&
    exec sleep infinity" >>"$LOG_DIR/node2-mountns.log" 2>&1 </dev/null &
  echo $! >"$HOLDER_PID"
  sleep 1
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY='' \
    setsid nsenter --mount="/proc/$(cat "$HOLDER_PID")/ns/mnt" -- containerd --config "$N2_STATE/containerd.toml" \
    >>"$LOG_DIR/node2-containerd.log" 2>&1 </dev/null &
  echo $! >"$N2_RUN/containerd.pid"
  for _ in $(seq 60); do ctr --address "$N2_RUN/containerd.sock" version >/dev/null 2>&1 && break; sleep 0.5; done
  local tar
  for tar in "$IMAGE_CACHE"/*.tar "$REPO_ROOT/bin/minibit-image.tar"; do
    [[ -f $tar ]] && ctr --address "$N2_RUN/containerd.sock" -n k8s.io images import "$tar" >/dev/null
  done
  setsid nsenter --mount="/proc/$(cat "$HOLDER_PID")/ns/mnt" -- "$K8S_BIN/kubelet" --config "$N2_STATE/kubelet.yaml" \
    --kubeconfig "$N2_STATE/kubelet.kubeconfig" --root-dir "$N2_STATE/kubelet" \
    --cert-dir "$N2_STATE/kubelet/pki" --hostname-override "$N2_NAME" --node-ip "$N2_IP" \
    >>"$LOG_DIR/node2-kubelet.log" 2>&1 </dev/null &
  echo $! >"$N2_RUN/kubelet.pid"
  for _ in $(seq 120); do
    [[ $(kctl get node "$N2_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]] && {
      log "second node $N2_NAME Ready"; return 0; }
    sleep 1
  done
  die "second node not Ready (logs: $LOG_DIR/node2-*.log)"
}

down() {
  kctl delete node "$N2_NAME" --ignore-not-found >/dev/null 2>&1 || true
  local p
  for p in kubelet containerd; do
    [[ -f $N2_RUN/$p.pid ]] && kill "$(cat "$N2_RUN/$p.pid")" 2>/dev/null || true
  done
  sleep 2
  pkill -f "containerd-shim-runc-v2 .*$N2_RUN" 2>/dev/null || true
  [[ -f $HOLDER_PID ]] && kill "$(cat "$HOLDER_PID")" 2>/dev/null || true
  ip link del cni1 2>/dev/null || true
  ip addr del "$N2_IP/32" dev lo 2>/dev/null || true
  rmdir /sys/fs/cgroup/*/minibit-node2/* /sys/fs/cgroup/*/minibit-node2 2>/dev/null || true
  rm -rf "$N2_STATE" "$N2_RUN"
  log "second node removed"
}

case ${1:-} in
up) up ;;
down) down ;;
*) die "usage: $0 up|down" ;;
esac
