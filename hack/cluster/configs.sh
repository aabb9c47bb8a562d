# Configuration files of the local cluster's daemons (sourced by up.sh). Each function writes one
# file under STATE_DIR from the settings of lib.sh.

# write_containerd_config: CRI with the local pause image, overlayfs, runc with cgroupfs, the
# bridge CNI, and restrict_oom_score_adj (this machine's root lacks CAP_SYS_RESOURCE).
write_containerd_config() {
  mkdir -p "$STATE_DIR/containerd" "$STATE_DIR/cni/net.d"
  cat >"$STATE_DIR/containerd.toml" <<EOF
version = 2
root = "$STATE_DIR/containerd"
state = "$CONTAINERD_STATE"

[grpc]
  address = "$CONTAINERD_SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE_DIR/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE_DIR/cni/net.d"
    max_conf_num = 1
EOF
}

# write_cni_config: one bridge, host-local addresses, no masquerade, no default route: a pod can
# reach other pods (of this node's bridge, or of a second node's, hack/cluster/node2.sh) and the
# service range, and nothing else.
write_cni_config() {
  cat >"$STATE_DIR/cni/net.d/10-minibit.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "minibit",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "isDefaultGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]],
        "routes": [{"dst": "$SERVICE_CIDR"}, {"dst": "$CLUSTER_CIDR"}],
        "dataDir": "$STATE_DIR/cni/ipam"
      }
    }
  ]
}
EOF
}

# write_kubelet_config: cgroup v1 allowed, cgroupfs, no resolver inherited from the machine,
# webhook authentication and authorization, serving certificate made by openssl.
write_kubelet_config() {
  cat >"$STATE_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI_DIR/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI_DIR/kubelet.crt
tlsPrivateKeyFile: $PKI_DIR/kubelet.key
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
resolvConf: ""
clusterDNS: [$DNS_SVC_IP]
clusterDomain: cluster.local
podLogsDir: $STATE_DIR/pod-logs
serializeImagePulls: false
evictionHard: {memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
}

# write_kube_proxy_config: nftables mode (its own tables, removed on teardown), node ports only on
# the node address, conntrack sysctls left alone.
write_kube_proxy_config() {
  cat >"$STATE_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: {kubeconfig: $STATE_DIR/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
clusterCIDR: $CLUSTER_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$NODE_IP/32"]
conntrack: {maxPerCore: 0, min: 0}
EOF
}
