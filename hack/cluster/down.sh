#!/usr/bin/env bash
# Tears down the local cluster of up.sh and leaves nothing behind: stops every daemon by its
# recorded PID, kills the pods' containers and their shims, removes the pods' network namespaces,
# unmounts what containerd and the kubelet mounted, deletes the bridge, the nftables tables, the
# iptables chains and ipsets of the kubelet and the policy agent, the node address, the pods'
# cgroups, restores the kernel settings, and removes the state.
# Logs stay in bin/cluster/logs for debugging. Safe to run twice.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root"

# stop_pids GRACE_SECONDS PID:NAME...: stops each PID that still runs NAME, with its process
# group when it leads one: each daemon leads its own (setsid), which holds the helpers it may be
# running at that moment (iptables-restore, ipset, nft, CNI plugins). SIGTERM, SIGKILL to what is
# left after GRACE_SECONDS, then waits until all of them are gone, so that nothing they started
# still adds a rule, a link or a mount while the rest of the teardown removes them. All at once:
# the cluster is going away.
stop_pids() {
  local grace=$1 item pid targets=() names=() i left=()
  shift
  for item in "$@"; do
    pid=${item%%:*}
    runs_program "$pid" "${item#*:}" || continue
    if [[ $(pgrp_of "$pid") == "$pid" ]]; then targets+=("-$pid"); else targets+=("$pid"); fi
    names+=("${item#*:}")
  done
  ((${#targets[@]})) || return 0
  kill -TERM -- "${targets[@]}" 2>/dev/null
  wait_gone "$grace" "${targets[@]}" && return 0
  for i in "${!targets[@]}"; do any_alive "${targets[i]}" && left+=("${names[i]}"); done
  log "SIGKILL to ${left[*]} (still running ${grace}s after SIGTERM)"
  kill -KILL -- "${targets[@]}" 2>/dev/null
  wait_gone 10 "${targets[@]}" || log "still running 10s after SIGKILL: ${left[*]}"
  return 0
}

# pgrp_of PID: the process group PID belongs to.
pgrp_of() {
  local stat pgrp
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  read -r _ _ pgrp _ <<<"${stat##*) }" # after the command: state, parent, group
  echo "$pgrp"
}

# any_alive TARGET...: whether a target still runs; a target is a PID, or -PGID for a whole group.
any_alive() {
  local t p
  for t in "$@"; do
    if [[ $t == -* ]]; then
      for p in $(pgrep -g "${t#-}"); do running "$p" && return 0; done
    else
      running "$t" && return 0
    fi
  done
  return 1
}

# wait_gone SECONDS TARGET...: waits up to SECONDS until no target runs (zombies do not count).
wait_gone() {
  local deadline=$((${EPOCHREALTIME/[.,]/} + $1 * 1000000))
  while any_alive "${@:2}"; do
    ((${EPOCHREALTIME/[.,]/} < deadline)) || return 1
    sleep 0.1
  done
}

# stop_daemons GRACE_SECONDS NAME...: stops daemons by their recorded PIDs.
stop_daemons() {
  local grace=$1 name items=()
  shift
  for name in "$@"; do
    [[ -f $PID_DIR/$name.pid ]] && items+=("$(<"$PID_DIR/$name.pid"):$name")
  done
  ((${#items[@]})) && stop_pids "$grace" "${items[@]}"
  for name in "$@"; do rm -f "$PID_DIR/$name.pid"; done
}

# task_dirs: containerd's per-container state directories (they hold init.pid and shim.pid).
task_dirs() {
  local d
  for d in "$CONTAINERD_STATE"/io.containerd.runtime.v2.task/*/*/; do
    [[ -d $d ]] && echo "${d%/}"
  done
}

# stop_containers: kills every container's processes, lets containerd remove the tasks (which
# unmounts their root filesystems), stops containerd, then any shim left.
stop_containers() {
  local d pid shims=() inits=() id
  for d in $(task_dirs); do
    [[ -f $d/shim.pid ]] && shims+=("$(<"$d/shim.pid"):containerd-shim-runc-v2")
    [[ -f $d/init.pid ]] || continue
    pid=$(<"$d/init.pid")
    # A container's first process, if that PID still is one of the pods' (not a reused PID).
    if running "$pid" && has kubepods 2>/dev/null <"/proc/$pid/cgroup"; then
      kill -KILL "$pid" 2>/dev/null && inits+=("$pid")
    fi
  done
  if pid_alive containerd; then
    for id in $(ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
      timeout 20 ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks rm -f "$id" >/dev/null 2>&1
    done
  fi
  ((${#inits[@]})) && ! wait_gone 10 "${inits[@]}" && log "containers still running: ${inits[*]}"
  stop_daemons 10 containerd
  ((${#shims[@]})) && stop_pids 5 "${shims[@]}"
  return 0
}

# remove_netns: the pods' network namespaces (deleting one also deletes its veth pair).
remove_netns() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ {print $1}'); do
    ip netns delete "$ns" 2>/dev/null || umount -l "/run/netns/$ns" 2>/dev/null
    rm -f "/run/netns/$ns"
  done
}

# unmount_all: every mount under the cluster's directories, deepest first.
unmount_all() {
  local m
  awk '{print $5}' /proc/self/mountinfo |
    grep -E "^($STATE_DIR|$RUN_DIR|/run/containerd|/run/netns/cni-|/var/run/netns/cni-)" |
    awk '{print length($0) " " $0}' | sort -rn | cut -d' ' -f2- |
    while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
    done
}

# remove_network: the bridge, kube-proxy's and the guard's nftables tables, the kubelet's and
# the policy agent's iptables chains (and the jumps to them), the iptables tables that only they
# needed, the agent's ipsets (once no rule uses them), the node address.
remove_network() {
  ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE"
  nft delete table inet "$GUARD_TABLE" 2>/dev/null
  nft delete table ip kube-proxy 2>/dev/null
  nft delete table ip6 kube-proxy 2>/dev/null
  remove_kube_iptables iptables ip
  remove_kube_iptables ip6tables ip6
  remove_policy_ipsets
  ip addr show dev lo | has "inet $NODE_IP/32" && ip addr delete "$NODE_IP/32" dev lo
  rm -f "$NFT_TABLES_BEFORE"
  return 0
}

# remove_kube_iptables TOOL FAMILY: deletes every rule that mentions a KUBE- chain, then the
# KUBE- chains; a table left empty that did not exist before up.sh is deleted too.
remove_kube_iptables() {
  local ipt=$1 family=$2 table rule chain
  for table in mangle nat filter; do
    "$ipt" -w -t "$table" -S 2>/dev/null | grep -E '^-A .*KUBE-' | grep -vE '^-A KUBE-' |
      while read -r rule; do
        eval "$ipt -w -t $table -D ${rule#-A }" 2>/dev/null
      done
    for chain in $("$ipt" -w -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
      "$ipt" -w -t "$table" -F "$chain" 2>/dev/null
    done
    for chain in $("$ipt" -w -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
      "$ipt" -w -t "$table" -X "$chain" 2>/dev/null
    done
    if [[ -f $NFT_TABLES_BEFORE ]] && ! grep -qx "table $family $table" "$NFT_TABLES_BEFORE" &&
      ! "$ipt" -w -t "$table" -S 2>/dev/null | has -E '^-(A|N) '; then
      nft delete table "$family" "$table" 2>/dev/null
    fi
  done
}

# remove_policy_ipsets: the ipsets kube-router made for NetworkPolicy (KUBE-SRC-*, KUBE-DST-*).
remove_policy_ipsets() {
  command -v ipset >/dev/null || return 0
  local set
  for set in $(ipset list -n 2>/dev/null | grep -E "$POLICY_IPSETS"); do
    ipset destroy "$set" 2>/dev/null || log "could not destroy ipset $set"
  done
}

# new_netfilter: iptables chains and rules and ipsets there now that were not before up.sh.
new_netfilter() {
  [[ -f $NETFILTER_BEFORE ]] || return 0
  comm -13 "$NETFILTER_BEFORE" <(netfilter_state)
}

restore_sysctls() {
  [[ -f $SYSCTL_SAVE ]] || return 0
  local line
  while read -r line; do sysctl -qw "$line" 2>/dev/null; done <"$SYSCTL_SAVE"
  rm -f "$SYSCTL_SAVE"
}

# remove_cgroups: the kubelet's pod cgroups (kubepods and below) in every v1 hierarchy. A cgroup
# whose last process is still exiting cannot be removed yet: tries again for up to 10 s.
remove_cgroups() {
  local root i left
  for ((i = 0; i < 50; i++)); do
    left=0
    for root in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
      [[ -d $root ]] || continue
      find "$root" -depth -type d -exec rmdir {} + 2>/dev/null || left=1
    done
    ((left)) || return 0
    sleep 0.2
  done
  return 0
}

remove_state() {
  # The kubelet's log links in /var/log/containers point into STATE_DIR.
  find /var/log/containers -maxdepth 1 -type l -lname "$STATE_DIR/*" -delete 2>/dev/null
  rm -rf "$STATE_DIR" "$RUN_DIR"
  if [[ -f $CREATED_LIST ]]; then
    local p
    while read -r p; do [[ -n $p ]] && rm -rf "$p"; done <"$CREATED_LIST"
    rm -f "$CREATED_LIST"
  fi
}

# report_leftovers: prints anything that survived, and fails if something did.
report_leftovers() {
  local left=()
  awk '{print $5}' /proc/self/mountinfo | has -E "^($STATE_DIR|$RUN_DIR|/run/containerd|/run/netns)" && left+=(mounts)
  ip link show "$BRIDGE" >/dev/null 2>&1 && left+=("$BRIDGE")
  ip netns list 2>/dev/null | has '^cni-' && left+=(netns)
  nft list tables 2>/dev/null | has -E "$GUARD_TABLE|kube-proxy" && left+=(nftables)
  { iptables-save; ip6tables-save; } 2>/dev/null | has 'KUBE-' && left+=(iptables)
  ipset list -n 2>/dev/null | has -E "$POLICY_IPSETS" && left+=(ipsets)
  local added
  added=$(new_netfilter)
  if [[ -n $added ]]; then
    left+=("iptables/ipset entries not there before up.sh")
    log "new since up.sh (first 20):"
    printf '  %s\n' "$added" | head -n 20 >&2
  fi
  ip addr show dev lo | has "inet $NODE_IP/" && left+=("lo address")
  [[ -e $STATE_DIR || -e $RUN_DIR ]] && left+=(state)
  compgen -G "/sys/fs/cgroup/*/kubepods" >/dev/null && left+=(cgroups)
  if ((${#left[@]})); then
    log "left behind: ${left[*]}"
    return 1
  fi
  rm -f "$NETFILTER_BEFORE"
  log "down: nothing left behind"
}

log "stopping the cluster"
# Nothing needs a graceful stop: Kubernetes' daemons together (the API server gets 3 s, not its
# long drain), then etcd, then the containers and containerd.
stop_daemons 3 "$POLICY_AGENT" kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver
stop_daemons 10 etcd
stop_containers
remove_netns
unmount_all
remove_netns
remove_network
restore_sysctls
remove_cgroups
remove_state
report_leftovers
