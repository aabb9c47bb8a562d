#!/usr/bin/env bash
# Brings up a real single-node Kubernetes cluster on this machine without Docker: etcd,
# kube-apiserver, controller-manager, scheduler, kubelet, kube-proxy as host daemons, containerd
# and runc from Debian, a bridge pod network, CoreDNS as a Deployment. Nothing leaves the machine:
# pods have no default route and an nftables table drops anything forwarded to or from the
# external interface. kube-router's firewall controller enforces NetworkPolicy (iptables and
# ipset). Waits until the node is Ready, the policy agent has synced and CoreDNS answers.
#
#   hack/cluster/up.sh          (as root; hack/cluster/down.sh undoes everything)
#
# Kubeconfig: bin/cluster/kubeconfig. Logs: bin/cluster/logs/. Binaries cached in bin/k8s.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$CLUSTER_DIR/pki.sh"
source "$CLUSTER_DIR/configs.sh"

START=$SECONDS
trap 'log "cluster-up failed: logs in $LOG_DIR; make cluster-down removes what was started"' ERR
step_start=$SECONDS
step() {
  log "$1 (previous step took $((SECONDS - step_start))s)"
  step_start=$SECONDS
}

[[ $(id -u) -eq 0 ]] || die "must run as root (it starts containerd and the kubelet)"
if pid_alive kube-apiserver; then
  die "a cluster is already running (hack/cluster/down.sh first)"
fi
if [[ -d $STATE_DIR || -d $RUN_DIR ]]; then
  log "leftovers of an earlier cluster found: tearing them down first"
  "$CLUSTER_DIR/down.sh"
fi

# install_packages: the Debian packages the cluster needs, installed only when missing.
install_packages() {
  local need=() pkg
  declare -A probe=([containerd]=/usr/bin/containerd [runc]=/usr/sbin/runc
    [containernetworking-plugins]=/usr/lib/cni/bridge [iptables]=/usr/sbin/iptables
    [nftables]=/usr/sbin/nft [conntrack]=/usr/sbin/conntrack [openssl]=/usr/bin/openssl
    [ipset]=/usr/sbin/ipset)
  for pkg in "${!probe[@]}"; do [[ -e ${probe[$pkg]} ]] || need+=("$pkg"); done
  [[ ${#need[@]} -eq 0 ]] && return 0
  log "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# build_binaries: Kubernetes, etcd, CoreDNS and kube-router from Go modules, cached in bin/k8s.
build_binaries() {
  "$REPO_ROOT/hack/build-k8s.sh" "$K8S_BIN" etcd kube-apiserver kube-controller-manager \
    kube-scheduler kubelet kube-proxy kubectl coredns "$POLICY_AGENT"
}

# build_images: the pause and CoreDNS images as tarballs, rebuilt only when a binary changed.
build_images() {
  local tool="$REPO_ROOT/bin/tools/minibit-image"
  mkdir -p "$IMAGE_CACHE/bin"
  (cd "$REPO_ROOT" && CGO_ENABLED=0 go build -trimpath -o "$tool" ./hack/image &&
    CGO_ENABLED=0 go build -trimpath -o "$IMAGE_CACHE/bin/pause.new" ./hack/image/pause)
  # Keep the old file (and its time) when the build gave the same bytes.
  if cmp -s "$IMAGE_CACHE/bin/pause.new" "$IMAGE_CACHE/bin/pause"; then
    rm -f "$IMAGE_CACHE/bin/pause.new"
  else
    mv "$IMAGE_CACHE/bin/pause.new" "$IMAGE_CACHE/bin/pause"
  fi
  if [[ ! -f $IMAGE_CACHE/pause.tar || $IMAGE_CACHE/bin/pause -nt $IMAGE_CACHE/pause.tar ]]; then
    "$tool" --out "$IMAGE_CACHE/pause.tar" --tag "$PAUSE_IMAGE" --user 65535:65535 "$IMAGE_CACHE/bin/pause"
  fi
  if [[ ! -f $IMAGE_CACHE/coredns.tar || $K8S_BIN/coredns -nt $IMAGE_CACHE/coredns.tar ]]; then
    "$tool" --out "$IMAGE_CACHE/coredns.tar" --tag "$COREDNS_IMAGE" "$K8S_BIN/coredns"
  fi
}

# save_sysctls: the kernel settings this cluster may change, restored by down.sh.
save_sysctls() {
  local s v
  : >"$SYSCTL_SAVE"
  for s in "${SYSCTLS[@]}"; do
    v=$(sysctl -n "$s" 2>/dev/null) && printf '%s=%s\n' "$s" "$v" >>"$SYSCTL_SAVE"
  done
}

# setup_network: the node address on lo, forwarding, and the guard table that drops anything
# forwarded to or from an external interface.
setup_network() {
  ip addr show dev lo | has "inet $NODE_IP/32" || ip addr add "$NODE_IP/32" dev lo
  sysctl -qw net.ipv4.ip_forward=1
  [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] || modprobe br_netfilter 2>/dev/null ||
    die "net.bridge.bridge-nf-call-iptables is missing (br_netfilter)"
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
  local ifaces rules="" i
  ifaces=$(external_interfaces)
  for i in $ifaces; do
    rules+="    iifname \"$i\" counter drop
    oifname \"$i\" counter drop
"
  done
  nft delete table inet "$GUARD_TABLE" 2>/dev/null || true
  nft -f - <<EOF
table inet $GUARD_TABLE {
  chain forward_guard {
    type filter hook forward priority -10; policy accept;
$rules  }
}
EOF
  log "guard table drops forwarding via: ${ifaces:-<no external interface>}"
}

# start_daemon NAME BINARY ARG...: runs BINARY, whose file is named NAME, in its own session,
# output in logs/NAME.log, and records its PID in PID_DIR/NAME.pid once it runs BINARY. The PID
# that `&` gives is first a copy of this shell, then setsid (which, not leading a process group,
# calls setsid(2) and execs BINARY in place), and only then the daemon: a check made before that
# second exec would take a starting daemon for one that has exited.
start_daemon() {
  local name=$1 pid deadline=$((SECONDS + 30))
  shift
  [[ ${1##*/} == "$name" ]] || die "start_daemon: $1 is not named $name"
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  pid=$!
  until runs_program "$pid" "$name"; do
    running "$pid" || daemon_failed "$name" "exited as it started"
    if ((SECONDS >= deadline)); then
      kill -KILL "$pid" 2>/dev/null || true
      daemon_failed "$name" "did not start within 30s"
    fi
    sleep 0.02
  done
  echo "$pid" >"$PID_DIR/$name.pid.new"
  mv "$PID_DIR/$name.pid.new" "$PID_DIR/$name.pid"
}

# daemon_failed NAME WHAT: fails with the daemon's last log lines.
daemon_failed() {
  tail -n 30 "$LOG_DIR/$1.log" >&2 || true
  die "$1 $2 (log: $LOG_DIR/$1.log)"
}

# ensure_running NAME: fails with the daemon's last log lines if it has exited.
ensure_running() {
  pid_alive "$1" || daemon_failed "$1" exited
}

wait_daemon() {
  local name=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ensure_running "$name"
    ((SECONDS < deadline)) || die "$name not healthy after ${timeout}s (log: $LOG_DIR/$name.log)"
    sleep 0.3
  done
}

healthz() { curl -fsS --max-time 2 --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" "$1"; }

start_containerd() {
  # The socket's directory is the one cAdvisor knows; remember it if this script made it.
  [[ -d /run/containerd ]] || { mkdir -p /run/containerd && record_created /run/containerd; }
  [[ -d /var/lib/cni ]] || record_created /var/lib/cni # libcni's result cache
  [[ -d /run/netns ]] || record_created /run/netns     # the pods' network namespaces
  # A proxy that refuses makes any image pull fail at once: images only come from the tarballs.
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY='' \
    start_daemon containerd containerd --config "$STATE_DIR/containerd.toml"
  wait_daemon containerd 30 ctr --address "$CONTAINERD_SOCK" version
}

start_etcd() {
  start_daemon etcd "$K8S_BIN/etcd" --name minibit --data-dir "$STATE_DIR/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster minibit=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
    --unsafe-no-fsync --log-level warn
}

start_apiserver() {
  start_daemon kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers http://127.0.0.1:2379 \
    --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port 6443 \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --client-ca-file "$PKI_DIR/ca.crt" \
    --tls-cert-file "$PKI_DIR/apiserver.crt" --tls-private-key-file "$PKI_DIR/apiserver.key" \
    --kubelet-client-certificate "$PKI_DIR/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI_DIR/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI_DIR/ca.crt" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI_DIR/sa.pub" \
    --service-account-signing-key-file "$PKI_DIR/sa.key" \
    --authorization-mode Node,RBAC \
    --requestheader-client-ca-file "$PKI_DIR/front-proxy-ca.crt" \
    --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$PKI_DIR/front-proxy-client.crt" \
    --proxy-client-key-file "$PKI_DIR/front-proxy-client.key" \
    --enable-admission-plugins NodeRestriction \
    --profiling=false
}

start_controllers() {
  start_daemon kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig "$STATE_DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE_DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE_DIR/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false \
    --use-service-account-credentials \
    --service-account-private-key-file "$PKI_DIR/sa.key" --root-ca-file "$PKI_DIR/ca.crt" \
    --cluster-signing-cert-file "$PKI_DIR/ca.crt" --cluster-signing-key-file "$PKI_DIR/ca.key" \
    --allocate-node-cidrs --cluster-cidr "$CLUSTER_CIDR" --node-cidr-mask-size 24 \
    --service-cluster-ip-range "$SERVICE_CIDR" --profiling=false
  start_daemon kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig "$STATE_DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE_DIR/scheduler.kubeconfig" \
    --authorization-kubeconfig "$STATE_DIR/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --profiling=false
}

start_node() {
  start_daemon kubelet "$K8S_BIN/kubelet" --config "$STATE_DIR/kubelet.yaml" \
    --kubeconfig "$STATE_DIR/kubelet.kubeconfig" --root-dir "$STATE_DIR/kubelet" \
    --cert-dir "$STATE_DIR/kubelet/pki" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
  start_daemon kube-proxy "$K8S_BIN/kube-proxy" --config "$STATE_DIR/kube-proxy.yaml"
}

# start_policy_agent: kube-router with only its NetworkPolicy controller, as a host daemon with
# its own client certificate and a read-only ClusterRole. No health or metrics listener (they
# would listen on every interface); it is ready once its first full sync has written the
# explicit-accept rule at the end of KUBE-ROUTER-FORWARD.
start_policy_agent() {
  kctl apply -f "$CLUSTER_DIR/manifests/kube-router-rbac.yaml" >/dev/null
  start_daemon "$POLICY_AGENT" "$K8S_BIN/kube-router" --kubeconfig "$STATE_DIR/kube-router.kubeconfig" \
    --run-firewall=true --run-router=false --run-service-proxy=false --run-loadbalancer=false \
    --enable-cni=false --enable-ipv4=true --enable-ipv6=false \
    --hostname-override "$NODE_NAME" --service-cluster-ip-range "$SERVICE_CIDR" \
    --health-port=0 --metrics-port=0 --enable-pprof=false
  wait_daemon "$POLICY_AGENT" 60 policy_agent_synced
}

policy_agent_synced() {
  iptables -w 5 -t filter -S FORWARD | has -- '-j KUBE-ROUTER-FORWARD' &&
    iptables -w 5 -t filter -S KUBE-ROUTER-FORWARD | has -- '--mark 0x20000/0x20000 -j ACCEPT'
}

# import_image TAR: loads an image tarball into the cluster's containerd for the kubelet.
import_image() {
  ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$1" >/dev/null
}

node_ready() {
  [[ $(kctl get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]]
}

coredns_answers() {
  local ip
  ip=$(kctl -n kube-system get pods -l k8s-app=kube-dns -o 'jsonpath={.items[0].status.podIP}')
  [[ -n $ip ]] && "$OUT_DIR/dnscheck" --server "$ip:1053" \
    --name kubernetes.default.svc.cluster.local --want "$KUBERNETES_SVC_IP"
}

main() {
  install_packages
  step "building or reusing binaries in $K8S_BIN"
  build_binaries
  build_images
  (cd "$REPO_ROOT" && go build -trimpath -o "$OUT_DIR/dnscheck" ./hack/cluster/dnscheck)
  step "preparing state in $STATE_DIR"
  rm -rf "$STATE_DIR" "$RUN_DIR"
  mkdir -p "$STATE_DIR" "$PID_DIR" "$LOG_DIR" "$OUT_DIR"
  rm -f "$LOG_DIR"/*.log
  save_sysctls
  nft list tables >"$NFT_TABLES_BEFORE" 2>/dev/null || true
  netfilter_state >"$NETFILTER_BEFORE"
  # Fixed paths the kubelet uses whatever its root dir (device plugins, log links), and the node
  # cache of PerNode Swarms (config/manager's --node-cache-root, created by the kubelet).
  local fixed
  for fixed in /var/lib/kubelet /var/log/containers /var/lib/minibit; do [[ -e $fixed ]] || record_created "$fixed"; done
  if pki_valid; then log "reusing certificates in $PKI_DIR"; else make_pki; fi
  write_kubeconfig "$KUBECONFIG_OUT" admin
  local c
  for c in controller-manager scheduler kube-proxy kube-router; do
    write_kubeconfig "$STATE_DIR/$c.kubeconfig" "$c"
  done
  write_kubeconfig "$STATE_DIR/kubelet.kubeconfig" kubelet-client
  write_containerd_config
  write_cni_config
  write_kubelet_config
  write_kube_proxy_config
  setup_network

  step "starting containerd and etcd"
  start_containerd
  start_etcd
  import_image "$IMAGE_CACHE/pause.tar" &
  local import_pause=$!
  import_image "$IMAGE_CACHE/coredns.tar" &
  local import_coredns=$!
  wait_daemon etcd 30 curl -fsS --max-time 2 http://127.0.0.1:2379/health
  step "starting kube-apiserver"
  start_apiserver
  wait_daemon kube-apiserver 90 healthz "$APISERVER_URL/readyz"
  wait "$import_pause" || die "importing the pause image failed"
  wait "$import_coredns" || die "importing the CoreDNS image failed"
  step "starting controller-manager, scheduler, kubelet, kube-proxy"
  start_controllers
  start_node
  wait_daemon kubelet 60 curl -fsS --max-time 2 http://127.0.0.1:10248/healthz
  wait_daemon kube-proxy 60 curl -fsS --max-time 2 http://127.0.0.1:10256/healthz
  step "waiting for the node to be Ready"
  wait_daemon kubelet 120 node_ready
  step "starting the NetworkPolicy agent (kube-router's firewall)"
  start_policy_agent
  step "deploying CoreDNS"
  kctl apply -f "$CLUSTER_DIR/manifests/coredns.yaml" >/dev/null
  wait_daemon kube-controller-manager 120 kctl -n kube-system wait --for=condition=Available \
    --timeout=2s deployment/coredns
  wait_daemon kube-proxy 60 coredns_answers
  step "cluster ready"
  log "up in $((SECONDS - START))s; export KUBECONFIG=$KUBECONFIG_OUT"
  echo "$((SECONDS - START))" >"$OUT_DIR/last-up-seconds"
}

main "$@"
