package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// NodeCacheFinalizer holds a PerNode Swarm's deletion until its node labels are removed and
// its copies released on every node that held one.
const NodeCacheFinalizer = "swarm.minibit.io/node-cache"

// cleanupPoll is how often a deletion waiting for its clean-up pods looks again (their events
// also wake it).
const cleanupPoll = 2 * time.Second

// keepsRunning says whether a finished Swarm still needs passes: a Completed PerNode swarm
// does, since nodes that match later join and nodes that go leave.
func keepsRunning(s *minibitv1alpha1.Swarm) bool {
	return perNode(s) && s.Status.Phase == minibitv1alpha1.PhaseCompleted
}

// ensureFinalizer adds NodeCacheFinalizer to a PerNode Swarm (a patch of its finalizers only).
// It says whether it added it.
func (r *SwarmReconciler) ensureFinalizer(ctx context.Context, s *minibitv1alpha1.Swarm) (bool, error) {
	if !perNode(s) || controllerutil.ContainsFinalizer(s, NodeCacheFinalizer) {
		return false, nil
	}
	patch := client.MergeFromWithOptions(s.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.AddFinalizer(s, NodeCacheFinalizer)
	if err := r.Patch(ctx, s, patch); err != nil && !apierrors.IsConflict(err) {
		return false, fmt.Errorf("adding the finalizer %s: %w", NodeCacheFinalizer, err)
	}
	return true, nil
}

// finalizeNodeCache runs a deleted PerNode Swarm's clean-up: it removes its label from every
// node, deletes its node peers, runs one clean-up pod on every node that held a copy (and
// still exists), waits until each succeeded or failed, deletes them, and removes the finalizer.
func (r *SwarmReconciler) finalizeNodeCache(ctx context.Context, s *minibitv1alpha1.Swarm) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(s, NodeCacheFinalizer) {
		return ctrl.Result{}, nil
	}
	// The cache may still hold the Swarm after its finalizer was removed: a pass on that stale
	// copy would start clean-up pods again that no one deletes. Ask the API server.
	var live minibitv1alpha1.Swarm
	if err := r.reader().Get(ctx, client.ObjectKeyFromObject(s), &live); err != nil || live.UID != s.UID ||
		!controllerutil.ContainsFinalizer(&live, NodeCacheFinalizer) {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	var nodes corev1.NodeList
	if err := r.List(ctx, &nodes); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the nodes: %w", err)
	}
	if err := r.unmarkAll(ctx, s, nodes.Items); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.deleteNodePeers(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	done, err := r.runCleanPods(ctx, s, nodes.Items)
	if err != nil || !done {
		return ctrl.Result{RequeueAfter: cleanupPoll}, err
	}
	if err := r.deleteCleanPods(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	patch := client.MergeFrom(s.DeepCopy())
	controllerutil.RemoveFinalizer(s, NodeCacheFinalizer)
	return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, s, patch))
}

// unmarkAll removes the Swarm's label from every node that carries it.
func (r *SwarmReconciler) unmarkAll(ctx context.Context, s *minibitv1alpha1.Swarm, nodes []corev1.Node) error {
	key := NodeMark(s)
	var errs []error
	for i := range nodes {
		if _, has := nodes[i].Labels[key]; has {
			errs = append(errs, r.patchNodeLabel(ctx, nodes[i].Name, key, false))
		}
	}
	return errors.Join(errs...)
}

// deleteNodePeers deletes the Swarm's node peer pods, so that none serves or holds its copy
// while the copy is released.
func (r *SwarmReconciler) deleteNodePeers(ctx context.Context, s *minibitv1alpha1.Swarm) error {
	obs, err := r.observe(ctx, s)
	if err != nil {
		return err
	}
	for _, pod := range nodePods(obs) {
		if !pod.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.Delete(ctx, pod, client.Preconditions{UID: &pod.UID}); client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("deleting pod %s: %w", pod.Name, err)
		}
	}
	return nil
}

// runCleanPods creates the missing clean-up pods and says whether every node that held a copy
// is done: its clean-up pod ended (a failure is an Event: its link stays until the node's
// cache is cleaned by hand) or the node is gone. Without a node cache root there is nothing the
// manager may mount: it is done at once.
func (r *SwarmReconciler) runCleanPods(ctx context.Context, s *minibitv1alpha1.Swarm, nodes []corev1.Node) (bool, error) {
	if r.NodeCacheRoot == "" || s.Status.Nodes == nil {
		return true, nil
	}
	exists := map[string]bool{}
	for i := range nodes {
		exists[nodes[i].Name] = true
	}
	pods, err := r.cleanPods(ctx, s)
	if err != nil {
		return false, err
	}
	done := true
	for _, rec := range s.Status.Nodes.Records {
		if !rec.Cached || !exists[rec.Node] {
			continue
		}
		pod := pods[rec.Node]
		switch {
		case pod == nil:
			err := r.Create(ctx, buildCleanPod(s, r.Pods, r.NodeCacheRoot, rec.Node))
			switch {
			case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
				// The namespace is going: no pod can run in it. The node cache's clean-up removes
				// the name once no peer has used the copy for the retention (internal/nodecache).
				r.event(s, corev1.EventTypeWarning, "CleanUpSkipped", "Delete",
					"namespace %s is being deleted: node %s keeps %s until its cache's clean-up removes it after the retention",
					s.Namespace, rec.Node, NodeCachePath(r.NodeCacheRoot, s))
			case err != nil && !apierrors.IsAlreadyExists(err):
				return false, fmt.Errorf("creating the clean-up pod of node %s: %w", rec.Node, err)
			default:
				done = false
			}
		case pod.Status.Phase == corev1.PodFailed:
			r.event(s, corev1.EventTypeWarning, "CleanUpFailed", "Delete",
				"clean-up pod %s failed: the copy's link on node %s stays (remove %s by hand)", pod.Name, rec.Node, NodeCachePath(r.NodeCacheRoot, s))
		case pod.Status.Phase != corev1.PodSucceeded:
			done = false
		}
	}
	return done, nil
}

// cleanPods are the Swarm's clean-up pods by node name.
func (r *SwarmReconciler) cleanPods(ctx context.Context, s *minibitv1alpha1.Swarm) (map[string]*corev1.Pod, error) {
	var list corev1.PodList
	if err := r.List(ctx, &list, client.InNamespace(s.Namespace),
		client.MatchingLabels{LabelSwarm: s.Name, LabelRole: string(RoleClean)}); err != nil {
		return nil, fmt.Errorf("listing the clean-up pods: %w", err)
	}
	pods := map[string]*corev1.Pod{}
	for i := range list.Items {
		if node := list.Items[i].Annotations[AnnotationNode]; node != "" {
			pods[node] = &list.Items[i]
		}
	}
	return pods, nil
}

// deleteCleanPods deletes the Swarm's clean-up pods once all are done.
func (r *SwarmReconciler) deleteCleanPods(ctx context.Context, s *minibitv1alpha1.Swarm) error {
	pods, err := r.cleanPods(ctx, s)
	if err != nil {
		return err
	}
	for _, pod := range pods {
		if err := r.Delete(ctx, pod); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting the clean-up pod %s: %w", pod.Name, err)
		}
	}
	return nil
}
