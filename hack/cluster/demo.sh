#!/usr/bin/env bash
# make cluster-demo: the local cluster up (if it is not), the image built and loaded, the
# operator deployed, the sample Swarm applied and watched live until Completed, then a summary.
# The cluster stays up afterwards (make cluster-down removes it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
export KUBECONFIG="$KUBECONFIG_OUT"
DEMO_NS=${DEMO_NS:-minibit-demo}
TIMEOUT_SECONDS=${TIMEOUT_SECONDS:-900}
# The generated-content sample: nothing to fetch from outside (the other sample needs a web server).
SAMPLE=${SAMPLE:-config/samples/swarm_v1alpha1_small.yaml}

pid_alive kube-apiserver || "$CLUSTER_DIR/up.sh"

# LOAD=0 keeps the image already in the cluster (IMG names it).
if [[ ${LOAD:-1} != 0 ]]; then
  log "building the image without Docker and loading it into the cluster"
  make --no-print-directory cluster-load >/dev/null
fi
log "deploying the operator"
PULL_POLICY=Never KUBECTL="$K8S_BIN/kubectl" "$CLUSTER_DIR/deploy.sh" apply >/dev/null
deployment=$(PULL_POLICY=Never "$CLUSTER_DIR/deploy.sh" build |
  awk '/^kind: Deployment/{d=1} d&&/^  name:/{n=$2} d&&/^  namespace:/{ns=$2} d&&n&&ns{print ns"/"n; exit}')
kctl -n "${deployment%/*}" rollout status "deployment/${deployment#*/}" --timeout=180s

sample=$SAMPLE
[[ -f $sample ]] || die "no sample $sample"
name=$(awk '/^metadata:/{m=1} m&&/^  name:/{print $2; exit}' "$sample")
kctl create namespace "$DEMO_NS" --dry-run=client -o yaml | kctl apply -f - >/dev/null
kctl -n "$DEMO_NS" delete swarm "$name" --ignore-not-found --wait=true >/dev/null
log "applying $sample as $DEMO_NS/$name; watching it (kubectl get swarm -w)"
kctl -n "$DEMO_NS" apply -f "$sample" >/dev/null
start=$SECONDS

# The binary itself in the background (not the kctl function), so that $! is kubectl's PID.
"$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_OUT" -n "$DEMO_NS" get swarm "$name" -w -o wide &
watcher=$!
trap 'kill "$watcher" 2>/dev/null || true' EXIT
# Until the swarm is Completed or Failed (kubectl wait knows only one of them), at most TIMEOUT.
deadline=$((SECONDS + TIMEOUT_SECONDS))
phase=""
until [[ $phase == Completed || $phase == Failed ]]; do
  ((SECONDS < deadline)) || die "the swarm is still ${phase:-Pending} after ${TIMEOUT_SECONDS}s"
  sleep 1
  phase=$(kctl -n "$DEMO_NS" get swarm "$name" -o 'jsonpath={.status.phase}')
done
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true

echo
echo "===== summary: swarm $DEMO_NS/$name $phase after $((SECONDS - start))s ====="
field() { kctl -n "$DEMO_NS" get swarm "$name" -o "jsonpath={.status.$1}"; }
printf 'peers complete: %s/%s\n' "$(field completed)" "$(field desired)"
printf 'pieces:         %s\n' "$(field pieces)"
printf 'info-hash:      %s\n' "$(field infoHash)"
restarts=$(field restarts) failed=$(field failed)
printf 'restarts:       %s\n' "${restarts:-0}"
printf 'peer failures:  %s\n' "${failed:-0}"
printf 'started:        %s\n' "$(field startTime)"
printf 'completed:      %s\n' "$(field completionTime)"
echo "conditions:"
kctl -n "$DEMO_NS" get swarm "$name" -o jsonpath='{range .status.conditions[*]}  {.type}={.status} ({.reason}): {.message}{"\n"}{end}'
echo "pods:"
kctl -n "$DEMO_NS" get pods -l "swarm.minibit.io/swarm=$name" -o wide
echo "each peer's own check of its copy:"
for pod in $(kctl -n "$DEMO_NS" get pods -l "swarm.minibit.io/swarm=$name,swarm.minibit.io/role=peer" -o name); do
  line=$(kctl -n "$DEMO_NS" logs "$pod" | grep -o 'download verified sha256=[0-9a-f]*' | tail -n1 || true)
  printf '  %-32s %s\n' "${pod#pod/}" "${line:-<no verified download logged>}"
done
if [[ $phase == Failed ]]; then
  echo "events:"
  kctl -n "$DEMO_NS" get events --sort-by=.lastTimestamp | tail -n 20
  die "the swarm Failed"
fi
