#!/usr/bin/env bash
# Builds Kubernetes and etcd binaries from their Go modules (no download site is reachable here)
# and caches them in a directory. Used for the envtest API server (kube-apiserver, etcd) and for
# the local cluster (all components).
#
#   hack/build-k8s.sh DEST COMPONENT...
#
# COMPONENT is a k8s.io/kubernetes command (kube-apiserver, kubelet, kubectl, ...), "etcd",
# "coredns" (the local cluster's DNS server) or "kube-router" (its NetworkPolicy agent).
# A binary already present in DEST with the pinned version's stamp file is not rebuilt.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.5}
COREDNS_VERSION=${COREDNS_VERSION:-v1.15.0}
# The only kube-router on the module proxy here. Security flaws are reported for v2.1.0: it is
# good enough to enforce NetworkPolicy on a throwaway local test cluster, not for a real one.
KUBE_ROUTER_VERSION=${KUBE_ROUTER_VERSION:-v2.1.0}
dest=$(mkdir -p "$1" && cd "$1" && pwd)
shift

stamp="$dest/.versions"
want="kubernetes=$K8S_VERSION etcd=$ETCD_VERSION"
if [[ -f "$stamp" && "$(cat "$stamp")" != "$want" ]]; then
  echo "build-k8s: pinned versions changed, rebuilding" >&2
  rm -f "$dest"/*
fi

# CoreDNS has its own stamp, so that adding it never invalidates the other binaries.
if [[ -f "$dest/.coredns-version" && "$(cat "$dest/.coredns-version")" != "$COREDNS_VERSION" ]]; then
  rm -f "$dest/coredns" "$dest/.coredns-version"
fi

if [[ -f "$dest/.kube-router-version" && "$(cat "$dest/.kube-router-version")" != "$KUBE_ROUTER_VERSION" ]]; then
  rm -f "$dest/kube-router" "$dest/.kube-router-version"
fi

missing=()
for c in "$@"; do [[ -x "$dest/$c" ]] || missing+=("$c"); done
[[ ${#missing[@]} -eq 0 ]] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
staging="v0.${K8S_VERSION#v1.}"

build_kube() {
  local dir="$work/kube"
  if [[ ! -f "$dir/go.mod" ]]; then
    mkdir -p "$dir"
    (cd "$dir" && go mod init minibit.local/k8sbuild >/dev/null 2>&1 &&
      go mod edit -require="k8s.io/kubernetes@$K8S_VERSION")
    local gomod
    gomod=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    # k8s.io/kubernetes replaces its staging modules with local folders; point them at the
    # published modules of the same release instead.
    grep -oE '^\s*k8s.io/[a-z0-9-]+ => ./staging' "$gomod" | awk '{print $1}' | while read -r m; do
      (cd "$dir" && go mod edit -replace="$m=$m@$staging")
    done
  fi
  local ldflags=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  done
  echo "build-k8s: building $1 $K8S_VERSION" >&2
  (cd "$dir" && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w$ldflags" -o "$dest/$1" "k8s.io/kubernetes/cmd/$1")
}

build_etcd() {
  local dir="$work/etcd"
  mkdir -p "$dir"
  (cd "$dir" && go mod init minibit.local/etcdbuild >/dev/null 2>&1 &&
    go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION")
  echo "build-k8s: building etcd $ETCD_VERSION" >&2
  (cd "$dir" && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w" -o "$dest/etcd" go.etcd.io/etcd/server/v3)
}

build_coredns() {
  local dir="$work/coredns"
  mkdir -p "$dir"
  (cd "$dir" && go mod init minibit.local/corednsbuild >/dev/null 2>&1 &&
    go mod edit -require="github.com/coredns/coredns@$COREDNS_VERSION")
  echo "build-k8s: building coredns $COREDNS_VERSION" >&2
  (cd "$dir" && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w" -o "$dest/coredns" github.com/coredns/coredns)
  echo "$COREDNS_VERSION" > "$dest/.coredns-version"
}

# build_kube_router: kube-router's command; the local cluster runs only its NetworkPolicy
# controller (iptables and ipset), the version stamped the way its Makefile does.
build_kube_router() {
  local dir="$work/kube-router" mod=github.com/cloudnativelabs/kube-router/v2
  mkdir -p "$dir"
  (cd "$dir" && go mod init minibit.local/kuberouterbuild >/dev/null 2>&1 &&
    go mod edit -require="$mod@$KUBE_ROUTER_VERSION")
  echo "build-k8s: building kube-router $KUBE_ROUTER_VERSION" >&2
  (cd "$dir" && CGO_ENABLED=0 go build -mod=mod -trimpath \
    -ldflags "-s -w -X $mod/pkg/version.Version=$KUBE_ROUTER_VERSION" \
    -o "$dest/kube-router" "$mod/cmd/kube-router")
  echo "$KUBE_ROUTER_VERSION" > "$dest/.kube-router-version"
}

for c in "${missing[@]}"; do
  case "$c" in
    etcd) build_etcd ;;
    coredns) build_coredns ;;
    kube-router) build_kube_router ;;
    *) build_kube "$c" ;;
  esac
done
echo "$want" > "$stamp"
