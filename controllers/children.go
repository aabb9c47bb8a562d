package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// observed is what one pass sees of a Swarm's children, from the cache.
type observed struct {
	// pods are the pods the Swarm controls, by name.
	pods map[string]*corev1.Pod
	// serviceExists says whether the tracker's Service exists.
	serviceExists bool
	// publishSecret and networkPolicy are the objects of their names (nil when missing), whoever
	// controls them.
	publishSecret *corev1.Secret
	networkPolicy *networkingv1.NetworkPolicy
}

// observe lists the Swarm's pods (through the owner index) and looks for its Service, its
// publish Secret and its NetworkPolicy.
func (r *SwarmReconciler) observe(ctx context.Context, s *minibitv1alpha1.Swarm) (*observed, error) {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(s.Namespace), client.MatchingFields{ownerIndex: s.Name}); err != nil {
		return nil, fmt.Errorf("listing the swarm's pods: %w", err)
	}
	obs := &observed{pods: make(map[string]*corev1.Pod, len(pods.Items))}
	for i := range pods.Items {
		pod := &pods.Items[i]
		if owner := metav1.GetControllerOf(pod); owner != nil && owner.UID == s.UID {
			obs.pods[pod.Name] = pod
		}
	}
	var err error
	if obs.serviceExists, err = r.getOptional(ctx, client.ObjectKey{Namespace: s.Namespace, Name: TrackerName(s)}, &corev1.Service{}); err != nil {
		return nil, fmt.Errorf("reading the tracker's Service: %w", err)
	}
	if obs.publishSecret, err = getIfExists(ctx, r, s, PublishSecretName(s), &corev1.Secret{}); err != nil {
		return nil, fmt.Errorf("reading the publish Secret: %w", err)
	}
	if obs.networkPolicy, err = getIfExists(ctx, r, s, NetworkPolicyName(s), &networkingv1.NetworkPolicy{}); err != nil {
		return nil, fmt.Errorf("reading the NetworkPolicy: %w", err)
	}
	return obs, nil
}

// getIfExists reads the object of a name in the Swarm's namespace from the cache into obj and
// returns it, or nil when there is none.
func getIfExists[T client.Object](ctx context.Context, r *SwarmReconciler, s *minibitv1alpha1.Swarm, name string, obj T) (T, error) {
	found, err := r.getOptional(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, obj)
	if !found {
		var none T
		return none, err
	}
	return obj, nil
}

// podEnded says whether a pod of a role stopped for good: Failed, or (for the tracker and
// seeders, which should run forever) Succeeded.
func podEnded(pod *corev1.Pod, role Role) bool {
	switch pod.Status.Phase {
	case corev1.PodFailed:
		return true
	case corev1.PodSucceeded:
		return role != RolePeer
	}
	return false
}

// podActive says whether a pod is up or coming up: not ended, not being deleted.
func podActive(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp.IsZero() &&
		pod.Status.Phase != corev1.PodFailed && pod.Status.Phase != corev1.PodSucceeded
}

// existingPodNames lists, past the cache, the names of the Swarm's pods: the proof that a pod
// the cache misses is really gone (one API call, made only when the cache misses some).
func (r *SwarmReconciler) existingPodNames(ctx context.Context, s *minibitv1alpha1.Swarm) (map[string]bool, error) {
	var pods corev1.PodList
	if err := r.reader().List(ctx, &pods, client.InNamespace(s.Namespace), client.MatchingLabels{LabelSwarm: s.Name}); err != nil {
		return nil, fmt.Errorf("listing the swarm's pods from the API server: %w", err)
	}
	names := make(map[string]bool, len(pods.Items))
	for _, pod := range pods.Items {
		names[pod.Name] = true
	}
	return names, nil
}
