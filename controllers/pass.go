package controllers

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// pass is the state of one reconcile of one Swarm: the Swarm as read, the status being
// computed, the Events to send once that status is written, and when to look again. One
// goroutine (the reconcile) owns it.
type pass struct {
	swarm  *minibitv1alpha1.Swarm
	status *minibitv1alpha1.SwarmStatus
	st     settings
	now    time.Time
	events []event
	// wake is when the swarm needs another pass even if nothing changes (0: never).
	wake time.Duration
	// doomed are the pods to delete once the status that records why is written: a decision
	// taken on a stale Swarm is thrown away with its status (the write conflicts), never half
	// applied.
	doomed []*corev1.Pod
	// contentMismatch says the tracker reports other content than the pinned info-hash.
	contentMismatch bool
	// mark and unmark are the nodes whose label a PerNode pass sets or removes once its status
	// is written.
	mark, unmark []string
}

// event is an Event queued until the status is written.
type event struct {
	kind, reason, action, note string
}

func newPass(s *minibitv1alpha1.Swarm, now time.Time) *pass {
	status := s.Status.DeepCopy()
	now = now.Truncate(time.Second) // what the API stores: no spurious differences
	if status.StartTime == nil {
		status.StartTime = &metav1.Time{Time: now}
	}
	if status.Phase == "" {
		status.Phase = minibitv1alpha1.PhasePending
	}
	st := settingsOf(s)
	status.Desired = st.peers
	status.ObservedGeneration = s.Generation
	status.Selector = peerSelector(s)
	return &pass{swarm: s, status: status, st: st, now: now}
}

// wakeIn asks for another pass after d at the latest.
func (p *pass) wakeIn(d time.Duration) {
	d = max(d, time.Second/10)
	if p.wake == 0 || d < p.wake {
		p.wake = d
	}
}

// record queues an Event about the Swarm.
func (p *pass) record(kind, reason, action, format string, args ...any) {
	p.events = append(p.events, event{kind: kind, reason: reason, action: action, note: fmt.Sprintf(format, args...)})
}

// flushEvents sends the queued Events; called once the status they explain is written.
func (p *pass) flushEvents(rec events.EventRecorder) {
	if rec == nil {
		return
	}
	for _, e := range p.events {
		rec.Eventf(p.swarm, nil, e.kind, e.reason, e.action, "%s", e.note)
	}
	p.events = nil
}

// setCondition sets one condition, keeping its transition time when its status is unchanged.
func (p *pass) setCondition(kind string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&p.status.Conditions, metav1.Condition{
		Type: kind, Status: status, Reason: reason, Message: message,
		ObservedGeneration: p.swarm.Generation, LastTransitionTime: metav1.Time{Time: p.now},
	})
}

// fail makes the swarm Failed for a reason.
func (p *pass) fail(reason, message string) {
	p.status.Phase = minibitv1alpha1.PhaseFailed
	p.doomed = nil // a failed swarm keeps its pods, for their logs
	p.status.CompletionTime = &metav1.Time{Time: p.now}
	p.setCondition(minibitv1alpha1.ConditionFailed, metav1.ConditionTrue, reason, message)
	p.setCondition(minibitv1alpha1.ConditionProgressing, metav1.ConditionFalse, reason, "the swarm failed: "+message)
	p.setCondition(minibitv1alpha1.ConditionComplete, metav1.ConditionFalse, reason, "the swarm failed before every peer held the file")
	p.record(corev1.EventTypeWarning, "SwarmFailed", "Fail", "%s", message)
	if ttl := p.swarm.Spec.Completion.TTLSecondsAfterFinished; ttl != nil {
		p.wakeIn(time.Duration(*ttl) * time.Second)
	}
}

// failed says whether the pass failed the swarm.
func (p *pass) failed() bool { return p.status.Phase == minibitv1alpha1.PhaseFailed }

// finished says whether a Swarm reached a terminal phase.
func finished(s *minibitv1alpha1.Swarm) bool {
	return s.Status.Phase == minibitv1alpha1.PhaseCompleted || s.Status.Phase == minibitv1alpha1.PhaseFailed
}

// disruption returns the recorded disruption of a pod name, or nil.
func (p *pass) disruption(name string) *minibitv1alpha1.Disruption {
	for i := range p.status.Disruptions {
		if p.status.Disruptions[i].Pod == name {
			return &p.status.Disruptions[i]
		}
	}
	return nil
}

// removeDisruption forgets the disruption of a pod name.
func (p *pass) removeDisruption(name string) {
	kept := p.status.Disruptions[:0]
	for _, d := range p.status.Disruptions {
		if d.Pod != name {
			kept = append(kept, d)
		}
	}
	p.status.Disruptions = kept
	if len(kept) == 0 {
		p.status.Disruptions = nil
	}
}

// failures is the status counter of a role's failures.
func (p *pass) failures(role Role) *int32 {
	switch role {
	case RoleTracker:
		return &p.status.TrackerFailures
	case RoleSeeder:
		return &p.status.SeederFailures
	default:
		return &p.status.Failed
	}
}

// launched is how many pods of a role were created once (from index 0).
func (p *pass) launched(role Role) int {
	switch role {
	case RoleTracker:
		if p.status.Launched.Tracker {
			return 1
		}
		return 0
	case RoleSeeder:
		return int(p.status.Launched.Seeders)
	default:
		return int(p.status.Launched.Peers)
	}
}

func (p *pass) setLaunched(role Role, n int) {
	switch role {
	case RoleTracker:
		p.status.Launched.Tracker = n > 0
	case RoleSeeder:
		p.status.Launched.Seeders = int32(n)
	default:
		p.status.Launched.Peers = int32(n)
	}
}

// roles are the roles in the order their pods are created.
var roles = []Role{RoleTracker, RoleSeeder, RolePeer}
