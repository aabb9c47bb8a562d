# Shared settings and helpers of the local cluster scripts (sourced by up.sh, down.sh, load.sh, ...).
# One single-node cluster per machine; every address below stays on this machine.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER_DIR="$REPO_ROOT/hack/cluster"

# Cached binaries and the outputs a user needs (kubeconfig, logs) live under bin/.
K8S_BIN=${K8S_BIN:-$REPO_ROOT/bin/k8s}
OUT_DIR=${OUT_DIR:-$REPO_ROOT/bin/cluster}
KUBECONFIG_OUT="$OUT_DIR/kubeconfig"
LOG_DIR="$OUT_DIR/logs"
IMAGE_CACHE="$OUT_DIR/images"

# Runtime state: removed entirely by down.sh.
STATE_DIR=${STATE_DIR:-/var/lib/minibit-cluster}
RUN_DIR=${RUN_DIR:-/run/minibit-cluster}
PKI_DIR="$OUT_DIR/pki" # kept across runs (valid a year), so a restart skips openssl
PID_DIR="$RUN_DIR/pids"
CONTAINERD_SOCK=/run/containerd/containerd.sock
CONTAINERD_STATE="$RUN_DIR/containerd"
# Paths outside STATE_DIR/RUN_DIR that up.sh had to create; down.sh removes exactly these.
CREATED_LIST="$OUT_DIR/created-paths"
# nftables tables present before up.sh: iptables-nft tables made for the kubelet's chains only
# are deleted by down.sh.
NFT_TABLES_BEFORE="$OUT_DIR/nft-tables-before"
# iptables chains and rules (every table, IPv4 and IPv6) and ipsets present before up.sh: down.sh
# reports any that are still there afterwards and were not before.
NETFILTER_BEFORE="$OUT_DIR/netfilter-before"
# Kernel settings changed by up.sh (or by the kubelet and kube-proxy), restored by down.sh.
SYSCTL_SAVE="$OUT_DIR/sysctl-saved"

# Network: node address on lo, pod bridge, service range. Nothing routes anywhere else.
NODE_NAME=minibit-node
NODE_IP=10.245.0.1
POD_CIDR=10.244.0.0/24
POD_GATEWAY=10.244.0.1
CLUSTER_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/24
KUBERNETES_SVC_IP=10.96.0.1
DNS_SVC_IP=10.96.0.10
BRIDGE=cni0
GUARD_TABLE=minibit-guard
APISERVER_URL="https://$NODE_IP:6443"

PAUSE_IMAGE=minibit.local/pause:dev
COREDNS_IMAGE=minibit.local/coredns:dev

SYSCTLS=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes
  net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
  net.netfilter.nf_conntrack_tcp_timeout_close_wait)

# The NetworkPolicy agent: kube-router's firewall controller alone (no routing, no service
# proxy), a host daemon. Its iptables chains are named KUBE-ROUTER-*, KUBE-POD-FW-*,
# KUBE-NWPLCY-*; its ipsets KUBE-SRC-* and KUBE-DST-*.
POLICY_AGENT=kube-router
POLICY_IPSETS='^KUBE-(SRC|DST)-'

# has PATTERN: whether stdin has a matching line. Unlike grep -q it reads all of stdin, so the
# writer never dies of SIGPIPE (which pipefail would turn into "no match").
has() { grep "$@" >/dev/null; }

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# kctl runs the cached kubectl against the cluster.
kctl() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_OUT" "$@"; }

# wait_until TIMEOUT_SECONDS DESCRIPTION COMMAND...: polls COMMAND every half second.
wait_until() {
  local timeout=$1 what=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.5
  done
}

# external_interfaces lists the interfaces that carry a default route (the machine's way out).
external_interfaces() {
  { ip -4 route show default; ip -6 route show default; } 2>/dev/null |
    awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1)}' | sort -u
}

# runs_program PID NAME: process PID runs the executable file named NAME ("NAME (deleted)" too:
# the file was replaced since). Not a zombie, not a reused PID, and not the copy of the shell that
# `&` forks, which is a shell until it has exec'd NAME.
runs_program() {
  local exe
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  exe=${exe% (deleted)}
  [[ ${exe##*/} == "$2" ]]
}

# running PID: PID is a live process. A zombie is not (PID 1 here reaps orphans only every 2 s or so).
running() {
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != [ZX] ]]
}

# pid_alive NAME: the PID recorded for daemon NAME runs NAME (up.sh names each daemon after its
# executable file and records its PID only once the daemon has exec'd it).
pid_alive() {
  local f="$PID_DIR/$1.pid"
  [[ -f $f ]] && runs_program "$(<"$f")" "$1"
}

# record_created PATH: remembers that up.sh created PATH, so down.sh removes it.
record_created() {
  mkdir -p "$OUT_DIR"
  grep -qxF -- "$1" "$CREATED_LIST" 2>/dev/null || echo "$1" >>"$CREATED_LIST"
}

# netfilter_state prints this machine's iptables chains and rules (IPv4 and IPv6, every table,
# counters left out) and its ipsets' names, one per line, sorted: compared before and after.
netfilter_state() {
  local ipt
  {
    for ipt in iptables ip6tables; do
      command -v "$ipt-save" >/dev/null || continue
      "$ipt-save" 2>/dev/null | awk -v tool="$ipt" '
        /^\*/ { table = substr($0, 2) }
        /^[:-]/ { sub(/ \[[0-9]+:[0-9]+\]$/, ""); print tool, table, $0 }'
    done
    if command -v ipset >/dev/null; then ipset list -n 2>/dev/null | sed 's/^/ipset /'; fi
  } | sort -u
}
