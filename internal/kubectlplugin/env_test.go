package kubectlplugin_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The suite's API server: a real kube-apiserver and etcd (envtest) with the Swarm CRD, and no
// controller: the tests write the Swarm's status and label the Nodes as the operator would.
var (
	env        *envtest.Environment
	kubeconfig string
	dyn        dynamic.Interface
	core       kubernetes.Interface
)

var swarms = schema.GroupVersionResource{Group: "swarm.minibit.io", Version: "v1alpha1", Resource: "swarms"}

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	var err error
	env, err = startEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "envtest:", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping envtest:", err)
		}
	}()
	return m.Run()
}

// startEnv starts the API server with the Swarm CRD and writes a kubeconfig for the plugin.
func startEnv() (*envtest.Environment, error) {
	assets, err := envtestAssets()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubectlplugin-")
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest: %w", err)
	}
	kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		return env, err
	}
	if dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return env, err
	}
	core, err = kubernetes.NewForConfig(cfg)
	return env, err
}

// envtestAssets finds kube-apiserver and etcd: KUBEBUILDER_ASSETS, relative to the module root.
func envtestAssets() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		return "", errors.New("KUBEBUILDER_ASSETS is not set: run `make envtest`, then `make test` (or set KUBEBUILDER_ASSETS=bin/k8s)")
	}
	if !filepath.IsAbs(dir) {
		if _, err := os.Stat(dir); err != nil {
			dir = filepath.Join("..", "..", dir) // tests run in internal/kubectlplugin
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(abs, "kube-apiserver")); err != nil {
		return "", fmt.Errorf("no kube-apiserver in KUBEBUILDER_ASSETS=%s: run `make envtest`", abs)
	}
	return abs, os.Setenv("KUBEBUILDER_ASSETS", abs)
}

// newNamespace makes a namespace of the test's own.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns, err := core.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "plugin-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// newSwarm creates a PerNode Swarm.
func newSwarm(t *testing.T, ns, name string) {
	t.Helper()
	newSwarmMode(t, ns, name, "PerNode")
}

// newSwarmMode creates a Swarm with the given spec.placement.mode ("": no placement).
func newSwarmMode(t *testing.T, ns, name, mode string) {
	t.Helper()
	spec := map[string]any{
		"source": map[string]any{"generate": map[string]any{"size": "1Mi", "seed": int64(1)}},
		"peers":  int64(1), // required by the schema; a PerNode Swarm ignores it
	}
	if mode != "" {
		spec["placement"] = map[string]any{"mode": mode}
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "swarm.minibit.io/v1alpha1",
		"kind":       "Swarm",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec":       spec,
	}}
	if _, err := dyn.Resource(swarms).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// setStatus writes the Swarm's status as the operator would: its phase and status.nodes.
func setStatus(t *testing.T, ns, name, phase string, nodes map[string]any, conditions ...any) {
	t.Helper()
	ctx := context.Background()
	u, err := dyn.Resource(swarms).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]any{"phase": phase}
	if nodes != nil {
		status["nodes"] = nodes
	}
	if len(conditions) > 0 {
		status["conditions"] = conditions
	}
	u.Object["status"] = status
	if _, err := dyn.Resource(swarms).Namespace(ns).UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// newNode creates a Node with the given labels; it is deleted when the test ends.
func newNode(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := core.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = core.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}) })
}
