#!/usr/bin/env bash
# Renders the operator from config/default with the image IMG (and, for clusters without a
# registry, imagePullPolicy PULL_POLICY), then applies, deletes or prints it. Works on any
# cluster KUBECONFIG points to; the local cluster and kind use PULL_POLICY=Never.
# Renders with KUSTOMIZE when it is built (make kustomize), otherwise with kubectl's built-in
# kustomize (kubectl v1.37.2 carries kustomize v5.8.1).
#
#   IMG=minibit:dev PULL_POLICY=Never KUSTOMIZE=bin/tools/kustomize hack/cluster/deploy.sh apply|delete|build
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
IMG=${IMG:-minibit:dev}
PULL_POLICY=${PULL_POLICY:-}
KUSTOMIZE=${KUSTOMIZE:-$REPO_ROOT/bin/tools/kustomize}
KUBECTL=${KUBECTL:-$REPO_ROOT/bin/k8s/kubectl}
[[ -x $KUBECTL ]] || KUBECTL=kubectl
CONFIG=${DEPLOY_CONFIG:-config/default}

# render prints the manifests: config/default plus an overlay that sets the image (whatever
# name config/ gives it) and, if asked, the pull policy of every Deployment's containers.
render() {
  local overlay="$REPO_ROOT/bin/deploy-overlay" name tag
  name=${IMG%:*} tag=${IMG##*:}
  [[ $IMG == *:* && $tag != */* ]] || { name=$IMG tag=latest; }
  rm -rf "$overlay" && mkdir -p "$overlay"
  {
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources: [../../$CONFIG]"
    echo "images:"
    for n in $(config_image_names); do
      echo "- {name: $n, newName: $name, newTag: $tag}"
    done
    if [[ -n $PULL_POLICY ]]; then
      echo "patches:"
      echo "- target: {kind: Deployment}"
      echo "  patch: |-"
      echo "    - {op: add, path: /spec/template/spec/containers/0/imagePullPolicy, value: $PULL_POLICY}"
    fi
  } >"$overlay/kustomization.yaml"
  # The manager's --image (the image of the swarms' pods) follows IMG too.
  if [[ -x $KUSTOMIZE ]]; then
    "$KUSTOMIZE" build "$overlay"
  else
    "$KUBECTL" kustomize "$overlay"
  fi | sed -E "s#^([[:space:]]*- --image=).*#\1$IMG#"
}

# config_image_names lists the image names config/ uses (without tags), so the override finds them.
config_image_names() {
  { grep -rhoE '^\s*(- )?image:\s*[^[:space:]]+' "$REPO_ROOT/config" 2>/dev/null |
      sed -E 's/.*image:\s*//; s/@.*//; s/:[^:/]*$//'
    echo controller; echo minibit; } | sort -u
}

case "${1:-}" in
  build) render ;;
  apply) render | "$KUBECTL" apply --server-side --force-conflicts -f - ;;
  delete) render | "$KUBECTL" delete --ignore-not-found --wait=true -f - ;;
  *) echo "usage: $0 build|apply|delete" >&2; exit 2 ;;
esac
