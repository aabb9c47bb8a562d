# MiniBit: a Kubernetes operator that pushes one file to many machines with a BitTorrent swarm.
# Targets follow kubebuilder's conventions; `make help` lists them.

IMG ?= minibit:dev
LOCALBIN ?= $(CURDIR)/bin
GOBIN_TOOLS := $(LOCALBIN)/tools
ENVTEST_ASSETS ?= $(LOCALBIN)/k8s

# Pinned tool versions (built from the Go module proxy, cached under bin/).
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
KUSTOMIZE_VERSION ?= v5.8.3

CONTROLLER_GEN ?= $(GOBIN_TOOLS)/controller-gen
GOLANGCI_LINT ?= $(GOBIN_TOOLS)/golangci-lint
KUSTOMIZE ?= $(GOBIN_TOOLS)/kustomize

# The demo's knobs: `make demo PEERS=20 SIZE=256MiB`.
PEERS ?= 8
SIZE ?= 64MiB
DEMO_JSON ?=

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
test: envtest ## Run every test: unit, loopback swarms, libtorrent interop, envtest (real kube-apiserver).
	KUBEBUILDER_ASSETS=$(ENVTEST_ASSETS) go test -race -timeout 30m ./...

.PHONY: envtest
envtest: ## Build kube-apiserver and etcd for envtest from Go modules (cached in bin/k8s).
	hack/build-k8s.sh $(ENVTEST_ASSETS) etcd kube-apiserver

##@ Build

.PHONY: build
build: ## Build the manager, tracker and peer binaries into bin/.
	CGO_ENABLED=0 go build -trimpath -o $(LOCALBIN)/ ./cmd/manager ./cmd/tracker ./cmd/peer

.PHONY: demo
demo: build ## Run a whole swarm on this machine: a tracker, a seeder and PEERS leechers of a SIZE file.
	go run ./hack/demo --bin $(LOCALBIN) --peers $(PEERS) --size $(SIZE) $(if $(DEMO_JSON),--json $(DEMO_JSON))

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
