// Command manager runs the Swarm operator: the Swarm reconciler, its metrics and health
// endpoints, and leader election between replicas.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/controllers"
)

// options are the manager's flags.
type options struct {
	metricsAddr, probeAddr string
	leaderElect            bool
	leaderElectionID       string
	image                  string
	pullPolicy             string
	progressPeriod         time.Duration
	trackerTimeout         time.Duration
	logFormat, logLevel    string
	// managerNamespace is where the manager's pods run: each swarm's NetworkPolicy lets them
	// reach its tracker.
	managerNamespace string
	// hostPathRoots are where a Swarm's storage may be a hostPath.
	hostPathRoots controllers.HostPathRoots
	// nodeCacheRoot is the node cache's directory on every node; empty refuses PerNode swarms.
	nodeCacheRoot string
	// imageSet says whether --image was given; when not, a manager running in a pod runs its
	// swarms' pods with its own image.
	imageSet bool
}

// parseFlags reads the manager's flags; getenv gives POD_NAMESPACE (set by config/manager
// through the downward API), the default of --manager-namespace.
func parseFlags(args []string, getenv func(string) string) (options, error) {
	var o options
	var roots string
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus /metrics endpoint (0 turns it off)")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz probes")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "elect a leader so that only one replica reconciles at a time")
	fs.StringVar(&o.leaderElectionID, "leader-election-id", "swarm.minibit.io", "name of the leader election Lease")
	fs.StringVar(&o.image, "image", controllers.DefaultImage, "image of the tracker, seeder and peer pods (holds /tracker and /peer); unset in a pod: the manager's own image")
	fs.StringVar(&o.pullPolicy, "image-pull-policy", string(corev1.PullIfNotPresent), "pull policy of those pods: Always, IfNotPresent or Never")
	fs.DurationVar(&o.progressPeriod, "progress-period", controllers.DefaultProgressPeriod, "how often a distributing swarm's tracker is asked for progress")
	fs.DurationVar(&o.trackerTimeout, "tracker-timeout", controllers.DefaultTrackerTimeout, "timeout of one request to a tracker's API")
	fs.StringVar(&o.logFormat, "log-format", "json", "log format: json or text")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&o.managerNamespace, "manager-namespace", getenv("POD_NAMESPACE"), "namespace of the manager's pods, which each swarm's NetworkPolicy lets reach its tracker (default: $POD_NAMESPACE; empty admits no manager pod)")
	fs.StringVar(&roots, "allowed-host-path-roots", "", "comma-separated host directories under which a Swarm's storage may be a hostPath; empty allows no hostPath")
	fs.StringVar(&o.nodeCacheRoot, "node-cache-root", "", "host directory of the node cache on every node, where PerNode swarms keep their copies (such as /var/lib/minibit/cache); empty refuses PerNode swarms")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if o.nodeCacheRoot, err = controllers.ParseNodeCacheRoot(o.nodeCacheRoot); err != nil {
		return o, fmt.Errorf("--node-cache-root: %w", err)
	}
	if o.hostPathRoots, err = controllers.ParseHostPathRoots(roots); err != nil {
		return o, fmt.Errorf("--allowed-host-path-roots: %w", err)
	}
	fs.Visit(func(f *flag.Flag) { o.imageSet = o.imageSet || f.Name == "image" })
	switch corev1.PullPolicy(o.pullPolicy) {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		return o, fmt.Errorf("--image-pull-policy %q: want Always, IfNotPresent or Never", o.pullPolicy)
	}
	if o.progressPeriod < 100*time.Millisecond || o.trackerTimeout <= 0 {
		return o, errors.New("--progress-period must be at least 100ms and --tracker-timeout positive")
	}
	return o, nil
}

// newLogger builds the slog logger the manager logs through (as logr).
func newLogger(format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", format)
}

func main() {
	if err := run(os.Args[1:]); errors.Is(err, flag.ErrHelp) {
		return
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	o, err := parseFlags(args, os.Getenv)
	if err != nil {
		return err
	}
	logger, err := newLogger(o.logFormat, o.logLevel)
	if err != nil {
		return err
	}
	ctrl.SetLogger(logr.FromSlogHandler(logger.Handler()))

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := minibitv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	cfg := ctrl.GetConfigOrDie()
	if !o.imageSet {
		o.image = ownImage(cfg, scheme, o.image, logger)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress: o.probeAddr,
		LeaderElection:         o.leaderElect,
		LeaderElectionID:       o.leaderElectionID,
		Cache:                  controllers.CacheOptions(),
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	reconciler := &controllers.SwarmReconciler{
		Client:           mgr.GetClient(),
		APIReader:        mgr.GetAPIReader(),
		Scheme:           mgr.GetScheme(),
		Recorder:         mgr.GetEventRecorder("swarm-controller"),
		Pods:             controllers.PodDefaults{Image: o.image, PullPolicy: corev1.PullPolicy(o.pullPolicy)},
		Progress:         controllers.HTTPProgress{Client: &http.Client{Timeout: o.trackerTimeout}},
		ProgressPeriod:   o.progressPeriod,
		TrackerTimeout:   o.trackerTimeout,
		ManagerNamespace: o.managerNamespace,
		HostPathRoots:    o.hostPathRoots,
		NodeCacheRoot:    o.nodeCacheRoot,
	}
	if err := reconciler.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the Swarm controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	if o.managerNamespace == "" {
		logger.Warn("No manager namespace (POD_NAMESPACE and --manager-namespace unset): the swarms' NetworkPolicies admit no manager pod to their trackers")
	}
	logger.Info("Starting the manager", "image", o.image, "leaderElection", o.leaderElect,
		"managerNamespace", o.managerNamespace, "allowedHostPathRoots", []string(o.hostPathRoots), "nodeCacheRoot", o.nodeCacheRoot)
	return mgr.Start(ctrl.SetupSignalHandler())
}

// ownImage is the image of the manager's own container when it runs in a pod (POD_NAME and
// POD_NAMESPACE set by config/manager), so that the image a kustomize override gives the manager
// is also the image of the swarms' pods; fallback otherwise.
func ownImage(cfg *rest.Config, scheme *runtime.Scheme, fallback string, logger *slog.Logger) string {
	name, namespace := os.Getenv("POD_NAME"), os.Getenv("POD_NAMESPACE")
	if name == "" || namespace == "" {
		return fallback
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		logger.Warn("Cannot read the manager's own pod; using the default image", "image", fallback, "error", err)
		return fallback
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var pod corev1.Pod
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &pod); err != nil {
		logger.Warn("Cannot read the manager's own pod; using the default image", "image", fallback, "error", err)
		return fallback
	}
	for _, ctr := range pod.Spec.Containers {
		if ctr.Name == "manager" && ctr.Image != "" {
			return ctr.Image
		}
	}
	return fallback
}
