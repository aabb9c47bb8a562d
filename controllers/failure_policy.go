package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/backoff"
)

// Reasons of the Failed condition.
const (
	ReasonPeerFailureLimit    = "PeerFailureLimitExceeded"
	ReasonSeederFailureLimit  = "SeederFailureLimitExceeded"
	ReasonTrackerFailureLimit = "TrackerFailureLimitExceeded"
)

// applyFailurePolicy records, once each, the pods that failed and the pods that vanished,
// deletes the failed pods that will be replaced, and counts the replacements that an earlier
// pass made but could not record. Replacements themselves are created by createChildren.
func (r *SwarmReconciler) applyFailurePolicy(ctx context.Context, p *pass, obs *observed) error {
	var missing []slot
	for _, role := range roles {
		for i := range p.st.count(role) {
			name := PodName(p.swarm, role, i)
			pod, known := obs.pods[name], p.disruption(name)
			switch {
			case pod == nil && known == nil && i < p.launched(role):
				missing = append(missing, slot{role: role, index: i})
			case pod != nil && known != nil && attemptOf(pod.Labels) > known.Attempt:
				p.removeDisruption(name) // replaced by an earlier pass whose status was lost
				p.status.Restarts++
			case pod != nil && known == nil && podEnded(pod, role):
				p.recordDisruption(role, name, string(pod.UID), minibitv1alpha1.DisruptionFailed, attemptOf(pod.Labels))
				p.doomEnded(role, pod)
			case pod != nil && known != nil && known.UID == string(pod.UID):
				p.redoDeletion(role, pod, known) // an earlier pass recorded it but its deletion was lost
			}
		}
	}
	return r.recordVanished(ctx, p, missing)
}

// doomEnded schedules the deletion of an ended pod whose name will get a replacement; under
// Ignore the pod stays, for its logs.
func (p *pass) doomEnded(role Role, pod *corev1.Pod) {
	if p.st.replaces(role) && pod.DeletionTimestamp.IsZero() {
		p.doomed = append(p.doomed, pod)
	}
}

// redoDeletion schedules again the deletion of a recorded pod that is still there: an ended pod
// to replace, or the chaos drill's victim.
func (p *pass) redoDeletion(role Role, pod *corev1.Pod, known *minibitv1alpha1.Disruption) {
	switch {
	case podEnded(pod, role):
		p.doomEnded(role, pod)
	case known.Reason == minibitv1alpha1.DisruptionChaos && pod.DeletionTimestamp.IsZero():
		p.doomed = append(p.doomed, pod)
	}
}

// deleteDoomed deletes the pods the pass decided to delete, once its status is written. Each
// deletion is bound to the pod's UID, so a newer pod of the same name is never deleted.
func (r *SwarmReconciler) deleteDoomed(ctx context.Context, p *pass) error {
	for _, pod := range p.doomed {
		err := r.Delete(ctx, pod, client.Preconditions{UID: &pod.UID})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("deleting pod %s: %w", pod.Name, err)
		}
	}
	p.doomed = nil
	return nil
}

// recordVanished records the pods the cache misses that the API server confirms are gone: they
// were deleted (by someone, or evicted) without the controller seeing them end.
func (r *SwarmReconciler) recordVanished(ctx context.Context, p *pass, missing []slot) error {
	if len(missing) == 0 {
		return nil
	}
	existing, err := r.existingPodNames(ctx, p.swarm)
	if err != nil {
		return err
	}
	for _, sl := range missing {
		name := PodName(p.swarm, sl.role, sl.index)
		if !existing[name] {
			p.recordDisruption(sl.role, name, "", minibitv1alpha1.DisruptionDeleted, 0)
		}
	}
	return nil
}

// recordDisruption remembers a pod that failed or went away, counts it as a failure of its role
// (the chaos drill's deletions excepted) and says, in an Event, what the policy does about it.
func (p *pass) recordDisruption(role Role, name, uid string, reason minibitv1alpha1.DisruptionReason, attempt int32) {
	p.status.Disruptions = append(p.status.Disruptions, minibitv1alpha1.Disruption{
		Pod: name, UID: uid, Reason: reason, Attempt: attempt, Time: metav1.Time{Time: p.now},
	})
	if reason != minibitv1alpha1.DisruptionChaos {
		*p.failures(role)++
	}
	what := map[minibitv1alpha1.DisruptionReason]string{
		minibitv1alpha1.DisruptionFailed:  "failed",
		minibitv1alpha1.DisruptionDeleted: "was deleted",
		minibitv1alpha1.DisruptionChaos:   "was deleted by the chaos drill",
	}[reason]
	if p.st.replaces(role) {
		p.record(corev1.EventTypeWarning, "PodReplacing", "Replace", "%s %s %s: replacing it in %s (%s failures: %d of %d tolerated)",
			role, name, what, p.backoffDelay(attempt), role, *p.failures(role), p.st.maxFailures[role])
		return
	}
	p.record(corev1.EventTypeWarning, "PodIgnored", "Ignore", "%s %s %s: the swarm goes on without it (peer failures: %d of %d tolerated)",
		role, name, what, *p.failures(role), p.st.maxFailures[role])
}

// backoffDelay is the wait before replacing a pod whose attempt number attempt went away: the
// failure policy's backoff, doubling from its initial value up to its max, without jitter.
func (p *pass) backoffDelay(attempt int32) time.Duration {
	return backoff.Policy{Initial: p.st.backoffInitial, Max: p.st.backoffMax, Multiplier: 2}.Delay(int(attempt))
}

// replacementDue says whether a disrupted pod may be replaced now, and if not, how long to wait.
func (p *pass) replacementDue(d *minibitv1alpha1.Disruption) (bool, time.Duration) {
	wait := d.Time.Add(p.backoffDelay(d.Attempt)).Sub(p.now)
	return wait <= 0, wait
}

// exceededLimit returns the reason and message of the first failure limit the swarm exceeded,
// or "" when it is within all of them.
func exceededLimit(p *pass) (string, string) {
	reasons := map[Role]string{
		RolePeer: ReasonPeerFailureLimit, RoleSeeder: ReasonSeederFailureLimit, RoleTracker: ReasonTrackerFailureLimit,
	}
	for _, role := range []Role{RoleTracker, RoleSeeder, RolePeer} {
		if role == RolePeer && p.st.perNode {
			continue // PerNode counts failures per node: a node is left out, never the swarm
		}
		if n, limit := *p.failures(role), p.st.maxFailures[role]; n > limit {
			return reasons[role], fmt.Sprintf("%d %s failures, more than the %d the failure policy tolerates", n, role, limit)
		}
	}
	return "", ""
}
