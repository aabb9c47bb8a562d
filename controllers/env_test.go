package controllers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/tracker"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// unreachableTracker is where swarms whose name starts with "unreachable-" look for their
// tracker in the tests: a port nothing listens on.
const unreachableTracker = "http://127.0.0.1:1"

// The manager's namespace and its one allowed hostPath root in the tests.
const (
	testManagerNamespace = "minibit-system"
	testHostPathRoot     = "/var/cache/minibit"
)

// testEnv is a real kube-apiserver and etcd (envtest), the manager running the Swarm
// controller against them, and the engine's real tracker in-process on 127.0.0.1.
type testEnv struct {
	env        *envtest.Environment
	cfg        *rest.Config
	client     client.Client
	tracker    *trackertest.Tracker
	reconciler *SwarmReconciler
	stop       context.CancelFunc
	done       chan error
	// writes and uncachedReads count the reconciler's API calls (its cached reads cost none).
	writes, uncachedReads atomic.Int64
	// statusWrites counts the Swarm status writes among the writes.
	statusWrites atomic.Int64
	// trackerFor maps a Swarm's name to another tracker's URL: a test replaces its tracker.
	trackerFor sync.Map
}

// countingReader counts the reads that go past the cache.
type countingReader struct {
	client.Reader
	n *atomic.Int64
}

func (c countingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	c.n.Add(1)
	return c.Reader.List(ctx, list, opts...)
}

func (c countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.n.Add(1)
	return c.Reader.Get(ctx, key, obj, opts...)
}

// countingClient counts the writes the reconciler sends.
type countingClient struct {
	client.Client
	n, status *atomic.Int64
}

func (c countingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.n.Add(1)
	return c.Client.Create(ctx, obj, opts...)
}

func (c countingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	c.n.Add(1)
	return c.Client.Delete(ctx, obj, opts...)
}

func (c countingClient) Status() client.SubResourceWriter {
	return countingStatus{SubResourceWriter: c.Client.Status(), n: c.n, status: c.status}
}

type countingStatus struct {
	client.SubResourceWriter
	n, status *atomic.Int64
}

func (s countingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	s.n.Add(1)
	s.status.Add(1)
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}

// envtestAssets finds the kube-apiserver and etcd binaries: KUBEBUILDER_ASSETS, made absolute
// against the module root when relative (make test passes bin/k8s). Unset is an error that says
// how to build them: the suite is never skipped.
func envtestAssets() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		return "", errors.New("KUBEBUILDER_ASSETS is not set: run `make envtest` to build kube-apiserver and etcd into bin/k8s, then `make test` (or set KUBEBUILDER_ASSETS=bin/k8s)")
	}
	if !filepath.IsAbs(dir) {
		if _, err := os.Stat(dir); err != nil {
			dir = filepath.Join("..", dir) // relative to the module root, tests run in controllers/
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(abs, "kube-apiserver")); err != nil {
		return "", fmt.Errorf("no kube-apiserver in KUBEBUILDER_ASSETS=%s: run `make envtest`", abs)
	}
	// envtest reads the variable itself, before BinaryAssetsDirectory: give it the absolute path.
	if err := os.Setenv("KUBEBUILDER_ASSETS", abs); err != nil {
		return "", err
	}
	return abs, nil
}

// startTestEnv starts the API server, the in-process tracker and the manager.
func startTestEnv(progressPeriod time.Duration) (*testEnv, error) {
	assets, err := envtestAssets()
	if err != nil {
		return nil, err
	}
	te := &testEnv{env: &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}}
	if te.cfg, err = te.env.Start(); err != nil {
		return nil, fmt.Errorf("starting envtest: %w", err)
	}
	te.cfg.QPS, te.cfg.Burst = 500, 1000 // as a manager would run with API priority and fairness
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := minibitv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if te.client, err = client.New(te.cfg, client.Options{Scheme: scheme}); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	te.stop = cancel
	if te.tracker, err = trackertest.New(trackertest.WithConfig(tracker.Config{Interval: time.Second, PeerTTL: time.Minute})); err != nil {
		return nil, err
	}

	mgr, err := ctrl.NewManager(te.cfg, ctrl.Options{
		Scheme:     scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Cache:      CacheOptions(),
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, err
	}
	te.reconciler = &SwarmReconciler{
		Client:    countingClient{Client: mgr.GetClient(), n: &te.writes, status: &te.statusWrites},
		APIReader: countingReader{Reader: mgr.GetAPIReader(), n: &te.uncachedReads},
		Scheme:    mgr.GetScheme(),
		Recorder:  mgr.GetEventRecorder("swarm-controller"),
		Pods:      PodDefaults{Image: DefaultImage, PullPolicy: corev1.PullIfNotPresent},
		Progress:  HTTPProgress{},
		TrackerURL: func(s *minibitv1alpha1.Swarm) string {
			if url, ok := te.trackerFor.Load(s.Name); ok {
				return url.(string)
			}
			if len(s.Name) > 12 && s.Name[:12] == "unreachable-" {
				return unreachableTracker
			}
			return te.tracker.URL
		},
		ProgressPeriod:   progressPeriod,
		ManagerNamespace: testManagerNamespace,
		HostPathRoots:    HostPathRoots{testHostPathRoot},
		NodeCacheRoot:    testNodeCacheRoot,
	}
	if err := te.reconciler.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	te.done = make(chan error, 1)
	go func() { te.done <- mgr.Start(ctx) }()
	return te, nil
}

// Stop stops the manager, the tracker and the API server.
func (te *testEnv) Stop() error {
	te.stop()
	var errs []error
	if te.done != nil {
		errs = append(errs, <-te.done)
	}
	if te.tracker != nil {
		te.tracker.Close()
	}
	errs = append(errs, te.env.Stop())
	return errors.Join(errs...)
}
