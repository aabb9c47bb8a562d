// Package controllers is the Swarm operator's reconciler: it turns each Swarm into a tracker, its
// Service, seeder pods and peer pods, applies the failure policy when pods fail or disappear,
// reads progress from the tracker, and writes the Swarm's status.
package controllers

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// conflictRetry is how soon a pass that met a newer Swarm is done again.
const conflictRetry = 100 * time.Millisecond

// DefaultProgressPeriod is how often a distributing swarm's tracker is asked for progress.
const DefaultProgressPeriod = 5 * time.Second

// SwarmReconciler reconciles Swarms. Its fields are set once before the manager starts; the
// progress cache is the only state it changes, under its own mutex.
type SwarmReconciler struct {
	client.Client
	// APIReader reads from the API server, past the cache: it confirms that a pod is really gone.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	// Pods are the manager-wide image and pull policy.
	Pods PodDefaults
	// Progress reads progress from a tracker (HTTPProgress in a cluster).
	Progress ProgressSource
	// TrackerURL gives the base URL of a swarm's tracker (InClusterTrackerURL when nil).
	TrackerURL func(*minibitv1alpha1.Swarm) string
	// ProgressPeriod is how often a tracker is polled (DefaultProgressPeriod when 0).
	ProgressPeriod time.Duration
	// TrackerTimeout bounds one poll of a tracker (DefaultTrackerTimeout when 0).
	TrackerTimeout time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// ManagerNamespace is the namespace of the manager's pods, which each swarm's
	// NetworkPolicy lets reach its tracker; empty admits no manager pod.
	ManagerNamespace string
	// HostPathRoots are where a Swarm's storage may be a hostPath; empty allows none.
	HostPathRoots HostPathRoots
	// NodeCacheRoot is the node cache's directory on every node (the manager's
	// --node-cache-root), the only hostPath a PerNode swarm's pods mount; empty refuses
	// PerNode swarms.
	NodeCacheRoot string

	cache progressCache
}

// +kubebuilder:rbac:groups=swarm.minibit.io,resources=swarms,verbs=get;list;watch;delete;patch
// +kubebuilder:rbac:groups=swarm.minibit.io,resources=swarms/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=swarm.minibit.io,resources=swarms/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch;patch

// Reconcile brings one Swarm's children in line with its spec and writes its status once.
func (r *SwarmReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var swarm minibitv1alpha1.Swarm
	if err := r.Get(ctx, req.NamespacedName, &swarm); err != nil {
		r.cache.forget(req.NamespacedName)
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !swarm.DeletionTimestamp.IsZero() {
		r.cache.forget(req.NamespacedName)
		return r.finalizeNodeCache(ctx, &swarm)
	}
	if added, err := r.ensureFinalizer(ctx, &swarm); added || err != nil {
		return ctrl.Result{}, err // the Swarm's update brings the next pass
	}
	if finished(&swarm) && !keepsRunning(&swarm) {
		r.cache.forget(req.NamespacedName)
		return r.expireFinished(ctx, &swarm)
	}
	if wait, ok := ttlRemaining(&swarm, r.now()); ok && wait <= 0 && finished(&swarm) {
		return r.expireFinished(ctx, &swarm)
	}
	p := newPass(&swarm, r.now())
	err := r.reconcileSwarm(ctx, p)
	if werr := r.writeStatus(ctx, p); werr != nil {
		if apierrors.IsConflict(werr) {
			return ctrl.Result{RequeueAfter: conflictRetry}, nil // a newer Swarm is on its way: redo the pass
		}
		return ctrl.Result{}, errors.Join(err, werr)
	}
	p.flushEvents(r.Recorder)
	err = errors.Join(err, r.deleteDoomed(ctx, p), r.applyMarks(ctx, p))
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: p.wake}, nil
}

// reconcileSwarm does one pass: observe the children, refuse a storage the cluster does not
// allow or a source that cannot work, wait for the source's Secrets, apply the failure policy,
// create what is missing, remove what is too much, run the
// chaos drill, read progress, compute the status.
func (r *SwarmReconciler) reconcileSwarm(ctx context.Context, p *pass) error {
	obs, err := r.observe(ctx, p.swarm)
	if err != nil {
		return err
	}
	if r.refuseStorage(p, obs) || p.st.perNode && r.refuseNodeCache(p, obs) || refuseSource(p) {
		return nil
	}
	waiting, err := r.waitForSecrets(ctx, p, obs)
	if err != nil || waiting && len(obs.pods) == 0 {
		return err // nothing runs yet: nothing else to do until the Secrets are there
	}
	if err := r.applyFailurePolicy(ctx, p, obs); err != nil {
		return err
	}
	if reason, msg := exceededLimit(p); reason != "" {
		p.fail(reason, msg)
		return nil
	}
	if err := r.createChildren(ctx, p, obs, !waiting); err != nil || p.failed() {
		return err
	}
	if err := r.deleteExcess(ctx, p, obs); err != nil {
		return err
	}
	if p.st.perNode {
		return r.reconcileNodes(ctx, p, obs)
	}
	runChaos(p, obs)
	r.updateProgress(ctx, p, obs)
	return nil
}

// writeStatus writes the pass's status when it differs from the one read, with the Swarm's
// resourceVersion as an optimistic lock.
func (r *SwarmReconciler) writeStatus(ctx context.Context, p *pass) error {
	if equality.Semantic.DeepEqual(p.swarm.Status, *p.status) {
		return nil
	}
	updated := p.swarm.DeepCopy()
	updated.Status = *p.status
	return r.Status().Update(ctx, updated)
}

func (r *SwarmReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// ownerIndex indexes pods by the name of the Swarm that controls them.
const ownerIndex = ".metadata.swarmController"

// SetupWithManager registers the reconciler, its pod index and its watches with mgr.
func (r *SwarmReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Progress == nil {
		r.Progress = HTTPProgress{}
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &corev1.Pod{}, ownerIndex, swarmOwnerName); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&minibitv1alpha1.Swarm{}).
		Owns(&corev1.Pod{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.Secret{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(r.perNodeSwarms), builder.WithPredicates(nodeChanged())).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(cleanPodSwarm)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).
		Named("swarm").
		Complete(r)
}

// swarmOwnerName is the index function of ownerIndex.
func swarmOwnerName(obj client.Object) []string {
	owner := metav1.GetControllerOf(obj)
	if owner == nil || owner.Kind != "Swarm" || owner.APIVersion != minibitv1alpha1.GroupVersion.String() {
		return nil
	}
	return []string{owner.Name}
}

// CacheOptions limit the manager's cache of pods, Services, Secrets and NetworkPolicies to
// MiniBit's children, so that its memory does not grow with the cluster's other workloads and
// it never holds the cluster's other Secrets.
func CacheOptions() cache.Options {
	ours := labels.SelectorFromSet(labels.Set{LabelManagedBy: ManagedByValue})
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&corev1.Pod{}:                 {Label: ours},
		&corev1.Service{}:             {Label: ours},
		&corev1.Secret{}:              {Label: ours},
		&networkingv1.NetworkPolicy{}: {Label: ours},
	}}
}
