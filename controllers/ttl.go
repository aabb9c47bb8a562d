package controllers

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// expireFinished applies completion.ttlSecondsAfterFinished to a Completed or Failed swarm: it
// deletes the Swarm (its children go with it, through their owner references) once the TTL has
// passed since it finished, and asks to be woken then otherwise.
func (r *SwarmReconciler) expireFinished(ctx context.Context, s *minibitv1alpha1.Swarm) (ctrl.Result, error) {
	wait, ok := ttlRemaining(s, r.now())
	if !ok {
		return ctrl.Result{}, nil
	}
	if wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	log.FromContext(ctx).Info("Deleting finished Swarm after its TTL", "swarm", s.Name, "phase", s.Status.Phase)
	err := r.Delete(ctx, s,
		client.PropagationPolicy(metav1.DeletePropagationBackground),
		client.Preconditions{UID: &s.UID, ResourceVersion: &s.ResourceVersion}) // never a newer Swarm
	if apierrors.IsConflict(err) {
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	}
	return ctrl.Result{}, client.IgnoreNotFound(err)
}

// ttlRemaining is how long a finished swarm has left before its TTL deletes it; false when it
// has no TTL or no completion time.
func ttlRemaining(s *minibitv1alpha1.Swarm, now time.Time) (time.Duration, bool) {
	ttl := s.Spec.Completion.TTLSecondsAfterFinished
	if ttl == nil || s.Status.CompletionTime == nil {
		return 0, false
	}
	return s.Status.CompletionTime.Add(time.Duration(*ttl) * time.Second).Sub(now), true
}
