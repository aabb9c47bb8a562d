package controllers

import (
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// runChaos is the chaos drill: while the swarm runs, every interval it picks one random active
// peer pod to delete (deleted once the status records the choice), until it has deleted count.
// Its victims are disruptions of reason Chaos: the failure policy replaces (or ignores) them
// without counting them as failures.
func runChaos(p *pass, obs *observed) {
	if p.swarm.Spec.Chaos == nil {
		return
	}
	if p.status.Chaos == nil {
		p.status.Chaos = &minibitv1alpha1.ChaosStatus{}
	}
	chaos := p.status.Chaos
	if chaos.Deleted >= p.st.chaosCount {
		return
	}
	last := p.status.StartTime.Time
	if chaos.LastDeletionTime != nil {
		last = chaos.LastDeletionTime.Time
	}
	if wait := last.Add(p.st.chaosInterval).Sub(p.now); wait > 0 {
		p.wakeIn(wait)
		return
	}
	victim := chaosVictim(p, obs, rand.IntN)
	if victim == nil {
		p.wakeIn(p.st.chaosInterval) // nothing to delete yet; try again later
		return
	}
	p.doomed = append(p.doomed, victim)
	chaos.Deleted++
	chaos.LastDeletionTime = &metav1.Time{Time: p.now}
	p.recordDisruption(RolePeer, victim.Name, string(victim.UID), minibitv1alpha1.DisruptionChaos, attemptOf(victim.Labels))
	p.record(corev1.EventTypeNormal, "ChaosDeletedPod", "Delete", "chaos drill deleted %s (%d of %d)", victim.Name, chaos.Deleted, p.st.chaosCount)
	if chaos.Deleted < p.st.chaosCount {
		p.wakeIn(p.st.chaosInterval)
	}
}

// chaosVictim picks, with pick(n) in [0, n), one active peer pod (in index order) that has no
// disruption recorded, or nil when there is none.
func chaosVictim(p *pass, obs *observed, pick func(int) int) *corev1.Pod {
	var candidates []*corev1.Pod
	for i := range p.st.count(RolePeer) {
		name := PodName(p.swarm, RolePeer, i)
		if pod := obs.pods[name]; pod != nil && podActive(pod) && p.disruption(name) == nil {
			candidates = append(candidates, pod)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	return candidates[pick(len(candidates))]
}
