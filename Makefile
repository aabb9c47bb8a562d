# MiniBit: a Kubernetes operator that pushes one file to many machines with a BitTorrent swarm.
# Targets follow kubebuilder's conventions; `make help` lists them.

IMG ?= minibit:dev
# The e2e suite's origin (test/origin: a directory over HTTP, in an OCI registry and in S3).
ORIGIN_IMG ?= minibit-origin:dev
LOCALBIN ?= $(CURDIR)/bin
GOBIN_TOOLS := $(LOCALBIN)/tools
ENVTEST_ASSETS ?= $(LOCALBIN)/k8s

# Pinned tool versions (built from the Go module proxy, cached under bin/).
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
KUSTOMIZE_VERSION ?= v5.8.2

CONTROLLER_GEN ?= $(GOBIN_TOOLS)/controller-gen
GOLANGCI_LINT ?= $(GOBIN_TOOLS)/golangci-lint
KUSTOMIZE ?= $(GOBIN_TOOLS)/kustomize

# The demo's knobs: `make demo PEERS=20 SIZE=256MiB`; WATCH=1 paces it to ~30 s and keeps it up;
# PAYLOAD=tree shares a directory of FILES files, PAYLOAD=sparse the same as holes of zeros.
PEERS ?= 8
SIZE ?= 64MiB
PAYLOAD ?= file
FILES ?= 8
DEMO_JSON ?=
WATCH ?=

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD and RBAC manifests under config/.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/...;./controllers/..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: controller-gen ## Generate the API types' DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	$(GOLANGCI_LINT) run ./...

.PHONY: test
test: test-deps envtest ## Run every test: unit, loopback swarms, libtorrent interop, envtest (real kube-apiserver).
	KUBEBUILDER_ASSETS=$(ENVTEST_ASSETS) go test -race -timeout 30m ./...

# `make test SKIP_TEST_DEPS=1` skips test-deps, where the packages came by other means (no apt);
# the script reads it from its environment.
.PHONY: test-deps
test-deps: ## Install the Debian packages the tests need, if missing (hack/test-deps.sh --list; root or sudo).
	hack/test-deps.sh

.PHONY: envtest
envtest: ## Build kube-apiserver and etcd for envtest from Go modules (cached in bin/k8s).
	hack/build-k8s.sh $(ENVTEST_ASSETS) etcd kube-apiserver

.PHONY: docs
docs: build ## Rewrite the README's flag tables from the binaries' own -h.
	go run ./hack/flagdoc --bin $(LOCALBIN) README.md

##@ Build

.PHONY: build
build: ## Build the manager, tracker, peer and kubectl-minibit binaries into bin/.
	CGO_ENABLED=0 go build -trimpath -o $(LOCALBIN)/ ./cmd/manager ./cmd/tracker ./cmd/peer ./cmd/kubectl-minibit

.PHONY: demo
demo: build ## Run a whole swarm on this machine: a tracker, a seeder and PEERS leechers of a SIZE file (WATCH=1: to watch).
	go build -o $(LOCALBIN)/demo ./hack/demo
	$(LOCALBIN)/demo --bin $(LOCALBIN) --peers $(PEERS) --size $(SIZE) --payload $(PAYLOAD) --files $(FILES) $(if $(DEMO_JSON),--json $(DEMO_JSON)) $(if $(filter 1 true yes,$(WATCH)),--watch)

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Build controller-gen.
$(CONTROLLER_GEN):
	GOBIN=$(GOBIN_TOOLS) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Build golangci-lint.
$(GOLANGCI_LINT):
	GOBIN=$(GOBIN_TOOLS) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Build kustomize.
$(KUSTOMIZE):
	GOBIN=$(GOBIN_TOOLS) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

##@ Deployment

# The image as a tarball, built without Docker (hack/image); CONTAINER_TOOL builds the Dockerfile.
IMAGE_TAR ?= $(LOCALBIN)/minibit-image.tar
CONTAINER_TOOL ?= docker
# imagePullPolicy forced on the manager's Deployment; Never on clusters without a registry.
PULL_POLICY ?=
# deploy.sh renders config/ with $(KUSTOMIZE) when built (make kustomize), else with kubectl's
# built-in kustomize: kustomize v5.8.3 needs Go 1.27 and a kube-openapi version the proxy lacks.
KUBECTL_BIN := $(ENVTEST_ASSETS)/kubectl
$(KUBECTL_BIN):
	hack/build-k8s.sh $(ENVTEST_ASSETS) kubectl

.PHONY: image-tar
image-tar: build ## Build the image IMG as a tarball (bin/minibit-image.tar) without Docker.
	go run ./hack/image --out $(IMAGE_TAR) --tag $(IMG) $(LOCALBIN)/manager $(LOCALBIN)/tracker $(LOCALBIN)/peer

ORIGIN_TAR ?= $(LOCALBIN)/minibit-origin-image.tar

.PHONY: origin-image-tar
origin-image-tar: ## Build test/origin's image ORIGIN_IMG (the e2e's HTTP, OCI and S3 origin) as a tarball without Docker.
	CGO_ENABLED=0 go build -trimpath -o $(LOCALBIN)/origin ./test/origin
	go run ./hack/image --out $(ORIGIN_TAR) --tag $(ORIGIN_IMG) $(LOCALBIN)/origin

.PHONY: docker-build
docker-build: ## Build the image IMG with Docker from the Dockerfile (needs a Docker engine).
	$(CONTAINER_TOOL) build -t $(IMG) .

.PHONY: deploy
deploy: $(KUBECTL_BIN) ## Deploy the CRD and the operator (config/default, image IMG) to the cluster of KUBECONFIG.
	IMG=$(IMG) PULL_POLICY=$(PULL_POLICY) KUSTOMIZE=$(KUSTOMIZE) hack/cluster/deploy.sh apply

.PHONY: undeploy
undeploy: $(KUBECTL_BIN) ## Remove the operator and the CRD (and so every Swarm) from the cluster of KUBECONFIG.
	IMG=$(IMG) PULL_POLICY=$(PULL_POLICY) KUSTOMIZE=$(KUSTOMIZE) hack/cluster/deploy.sh delete

.PHONY: build-installer
build-installer: $(KUBECTL_BIN) ## Write dist/install.yaml: the CRD and the operator with image IMG in one file.
	mkdir -p dist
	IMG=$(IMG) KUSTOMIZE=$(KUSTOMIZE) hack/cluster/deploy.sh build > dist/install.yaml

##@ Cluster

# The local cluster (hack/cluster, root, no Docker) writes its kubeconfig here.
CLUSTER_KUBECONFIG := $(LOCALBIN)/cluster/kubeconfig
# KIND=1 runs the e2e suite on a kind cluster (needs Docker and kind) instead of the local one.
KIND ?=
KIND_CLUSTER ?= minibit
KIND_KUBECONFIG := $(LOCALBIN)/cluster/kind-kubeconfig
E2E_KUBECONFIG ?= $(if $(KIND),$(KIND_KUBECONFIG),$(or $(KUBECONFIG),$(CLUSTER_KUBECONFIG)))

.PHONY: cluster-up
cluster-up: ## Bring up a local single-node cluster (root, no Docker); kubeconfig: bin/cluster/kubeconfig.
	hack/cluster/up.sh

.PHONY: cluster-down
cluster-down: ## Tear the local cluster down, leaving nothing behind (logs stay in bin/cluster/logs).
	hack/cluster/down.sh

.PHONY: cluster-load
cluster-load: image-tar origin-image-tar ## Import the image tarballs (IMG and the e2e's ORIGIN_IMG) into the local cluster's containerd.
	hack/cluster/load.sh $(IMAGE_TAR) $(ORIGIN_TAR)

.PHONY: cluster-deploy
cluster-deploy: cluster-load ## Load the image and deploy the operator to the local cluster.
	$(MAKE) deploy KUBECONFIG=$(CLUSTER_KUBECONFIG) PULL_POLICY=Never

.PHONY: cluster-demo
cluster-demo: ## Cluster up, operator deployed, sample Swarm applied and watched until Completed.
	hack/cluster/demo.sh

.PHONY: test-e2e
test-e2e: $(KUBECTL_BIN) ## Run the e2e suite (test/e2e) on the cluster of KUBECONFIG (KIND=1: a kind cluster).
	$(if $(KIND),hack/cluster/kind.sh load $(KIND_CLUSTER) $(IMAGE_TAR) && hack/cluster/kind.sh load $(KIND_CLUSTER) $(ORIGIN_TAR))
	KUBECONFIG=$(E2E_KUBECONFIG) IMG=$(IMG) ORIGIN_IMG=$(ORIGIN_IMG) KUSTOMIZE=$(KUSTOMIZE) \
		go test -tags e2e -timeout 60m -count=1 ./test/e2e/ -v -ginkgo.v

.PHONY: kind-up
kind-up: image-tar ## Create a kind cluster and load the image (needs Docker and kind; not run in CI).
	hack/cluster/kind.sh up $(KIND_CLUSTER) $(IMAGE_TAR)

.PHONY: kind-down
kind-down: ## Delete the kind cluster.
	hack/cluster/kind.sh down $(KIND_CLUSTER)

##@ Benchmarks

# The swarm lab (bench/): `make bench` runs every scenario, `make bench SCENARIO=reference` one;
# BENCH_REPS overrides the repetitions. Results: bench/results/ (JSON, markdown, SVG plots), and
# issue 15's goals, each met or not with its figure, in bench/results/README.md and on stdout.
# BENCH_PROFILE=dir profiles the whole lab into dir/cpu.pprof and dir/mem.pprof
# (`go tool pprof -top dir/cpu.pprof`).
SCENARIO ?=
BENCH_REPS ?=
BENCH_PROFILE ?=

.PHONY: bench
bench: ## Run the swarm lab (real engine, loopback, capped links); SCENARIO=name runs one scenario.
	$(if $(BENCH_PROFILE),mkdir -p $(BENCH_PROFILE))
	go run ./bench $(if $(SCENARIO),-scenario $(SCENARIO)) $(if $(BENCH_REPS),-reps $(BENCH_REPS)) \
		$(if $(BENCH_PROFILE),-cpuprofile $(BENCH_PROFILE)/cpu.pprof -memprofile $(BENCH_PROFILE)/mem.pprof) -out bench/results

.PHONY: bench-peer
bench-peer: ## Measure the peer's raw speed: 1 seeder and 8 leechers of 256 MiB, uncapped, in one process.
	go test -run '^$$' -bench Swarm -benchtime 1x ./internal/peer/
