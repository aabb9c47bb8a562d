# Certificates and kubeconfigs of the local cluster, made with openssl alone (sourced by up.sh).
# Keys are ECDSA P-256: quick to generate, accepted by every component.

# new_key FILE: a fresh P-256 private key.
new_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}

# new_ca NAME CN: a self-signed CA, NAME.key and NAME.crt in PKI_DIR.
new_ca() {
  local name=$1 cn=$2
  new_key "$PKI_DIR/$name.key"
  openssl req -x509 -new -key "$PKI_DIR/$name.key" -subj "/CN=$cn" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$PKI_DIR/$name.crt" 2>/dev/null
}

# new_cert CA NAME SUBJECT USAGE [SANS]: a leaf certificate NAME.crt signed by CA.
# USAGE is serverAuth, clientAuth or both ("serverAuth,clientAuth"); SANS like "IP:1.2.3.4,DNS:x".
new_cert() {
  local ca=$1 name=$2 subject=$3 usage=$4 sans=${5:-}
  local ext="$PKI_DIR/$name.ext"
  new_key "$PKI_DIR/$name.key"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n $sans ]] && echo "subjectAltName=$sans"
  } >"$ext"
  openssl req -new -key "$PKI_DIR/$name.key" -subj "$subject" 2>/dev/null |
    openssl x509 -req -CA "$PKI_DIR/$ca.crt" -CAkey "$PKI_DIR/$ca.key" -CAcreateserial \
      -days 365 -extfile "$ext" -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$ext"
}

# make_pki: every certificate and key the cluster needs.
make_pki() {
  mkdir -p "$PKI_DIR"
  chmod 700 "$PKI_DIR"
  new_ca ca minibit-cluster-ca
  new_ca front-proxy-ca minibit-front-proxy-ca
  new_cert ca apiserver "/CN=kube-apiserver" serverAuth \
    "IP:127.0.0.1,IP:$NODE_IP,IP:$KUBERNETES_SVC_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  new_cert ca apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  new_cert ca kubelet "/CN=$NODE_NAME" serverAuth "IP:$NODE_IP,DNS:$NODE_NAME"
  new_cert ca kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
  new_cert ca admin "/O=system:masters/CN=minibit-admin" clientAuth
  new_cert ca controller-manager "/CN=system:kube-controller-manager" clientAuth
  new_cert ca scheduler "/CN=system:kube-scheduler" clientAuth
  new_cert ca kube-proxy "/CN=system:kube-proxy" clientAuth
  new_cert ca kube-router "/CN=minibit:kube-router" clientAuth
  new_cert front-proxy-ca front-proxy-client "/CN=front-proxy-client" clientAuth
  new_key "$PKI_DIR/sa.key"
  openssl pkey -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
  rm -f "$PKI_DIR"/*.srl
}

# pki_valid: every file make_pki writes is there and the leaf certificates last another week.
pki_valid() {
  local f
  for f in ca front-proxy-ca apiserver apiserver-kubelet-client kubelet kubelet-client admin \
    controller-manager scheduler kube-proxy kube-router front-proxy-client; do
    [[ -f $PKI_DIR/$f.key ]] && openssl x509 -checkend 604800 -noout -in "$PKI_DIR/$f.crt" >/dev/null 2>&1 || return 1
  done
  [[ -f $PKI_DIR/sa.key && -f $PKI_DIR/sa.pub ]]
}

# write_kubeconfig FILE CERT_NAME: a kubeconfig for the client certificate CERT_NAME, with the
# certificates embedded so that the file stands alone.
write_kubeconfig() {
  local file=$1 name=$2
  umask 077
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: minibit
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(base64 -w0 "$PKI_DIR/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$PKI_DIR/$name.crt")
    client-key-data: $(base64 -w0 "$PKI_DIR/$name.key")
contexts:
- name: minibit
  context:
    cluster: minibit
    user: $name
current-context: minibit
EOF
  umask 022
}
