package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

// MaxSlowestPeers bounds status.slowestPeers.
const MaxSlowestPeers = 10

// Condition reasons.
const (
	ReasonTrackerAnswering   = "TrackerAnswering"
	ReasonTrackerUnreachable = "TrackerUnreachable"
	ReasonWaitingForSeeder   = "WaitingForSeeder"
	ReasonDistributing       = "Distributing"
	ReasonAllPeersComplete   = "AllPeersComplete"
	ReasonPeersDownloading   = "PeersDownloading"
	ReasonPodsDisrupted      = "PodsDisrupted"
	ReasonAsExpected         = "AsExpected"
	ReasonWithinLimits       = "WithinFailureLimits"
	ReasonContentMismatch    = "ContentMismatch"
)

// updateProgress reads the tracker (at most once a period) and computes the status from it and
// from the pods: counts, progress, phase and conditions.
func (r *SwarmReconciler) updateProgress(ctx context.Context, p *pass, obs *observed) {
	answer, err := r.poll(ctx, p)
	if err != nil && !errors.Is(err, ErrSwarmUnknown) {
		log.FromContext(ctx).V(1).Info("Tracker did not answer", "swarm", p.swarm.Name, "error", err.Error())
	}
	computeStatus(p, obs, answer, err)
	if p.status.Phase == minibitv1alpha1.PhaseCompleted {
		p.record(corev1.EventTypeNormal, "SwarmCompleted", "Complete", "all %d peers hold the file", p.status.Completed)
		if ttl := p.swarm.Spec.Completion.TTLSecondsAfterFinished; ttl != nil {
			p.wakeIn(time.Duration(*ttl) * time.Second)
		}
		return
	}
	p.wakeIn(r.period())
}

// poll returns the tracker's view of the swarm, asking the tracker only when the last answer is
// older than a period.
func (r *SwarmReconciler) poll(ctx context.Context, p *pass) (api.Swarm, error) {
	key := types.NamespacedName{Namespace: p.swarm.Namespace, Name: p.swarm.Name}
	now := r.now()
	if cached, ok := r.cache.get(key, now, r.period()); ok {
		return cached.swarm, cached.err
	}
	url := InClusterTrackerURL(p.swarm)
	if r.TrackerURL != nil {
		url = r.TrackerURL(p.swarm)
	}
	pollCtx, cancel := context.WithTimeout(ctx, orDefault(r.TrackerTimeout, DefaultTrackerTimeout))
	defer cancel()
	sw, err := r.Progress.SwarmProgress(pollCtx, url, p.swarm.Name)
	r.cache.put(key, polled{at: now, swarm: sw, err: err})
	return sw, err
}

func (r *SwarmReconciler) period() time.Duration {
	if r.ProgressPeriod > 0 {
		return r.ProgressPeriod
	}
	return DefaultProgressPeriod
}

// computeStatus fills the pass's status from the pods and the tracker's answer (or the error
// that replaced it). A tracker that does not answer keeps the last progress and makes the swarm
// Degraded; it is never an error of the reconcile.
func computeStatus(p *pass, obs *observed, answer api.Swarm, pollErr error) {
	s := p.status
	s.Running = countRunningPeers(p, obs)
	reachable := pollErr == nil || errors.Is(pollErr, ErrSwarmUnknown)
	if reachable && (pollErr != nil || pinContent(p, answer)) {
		s.Completed, s.ProgressPercent, s.SlowestPeers = peerProgress(p, obs, answer.Peers)
	}
	target := p.st.peers - ignoredPeers(p)
	switch {
	case target > 0 && s.Completed >= target:
		s.Phase = minibitv1alpha1.PhaseCompleted
		s.CompletionTime = &metav1.Time{Time: p.now}
	case s.InfoHash != "":
		s.Phase = minibitv1alpha1.PhaseDistributing
	default:
		s.Phase = minibitv1alpha1.PhasePending
	}
	setConditions(p, target, reachable, pollErr)
}

// setConditions sets the five conditions from the computed status.
func setConditions(p *pass, target int32, reachable bool, pollErr error) {
	s := p.status
	if reachable {
		p.setCondition(minibitv1alpha1.ConditionTrackerReady, metav1.ConditionTrue, ReasonTrackerAnswering, "the tracker's API answers")
	} else {
		p.setCondition(minibitv1alpha1.ConditionTrackerReady, metav1.ConditionFalse, ReasonTrackerUnreachable, pollErr.Error())
	}
	switch s.Phase {
	case minibitv1alpha1.PhaseCompleted:
		p.setCondition(minibitv1alpha1.ConditionProgressing, metav1.ConditionFalse, ReasonAllPeersComplete, "the swarm is done")
		p.setCondition(minibitv1alpha1.ConditionComplete, metav1.ConditionTrue, ReasonAllPeersComplete,
			fmt.Sprintf("%d of %d peers hold the whole file", s.Completed, target))
	case minibitv1alpha1.PhaseDistributing:
		p.setCondition(minibitv1alpha1.ConditionProgressing, metav1.ConditionTrue, ReasonDistributing,
			fmt.Sprintf("peers hold %d%% of the pieces", s.ProgressPercent))
	default:
		p.setCondition(minibitv1alpha1.ConditionProgressing, metav1.ConditionTrue, ReasonWaitingForSeeder,
			"waiting for a seeder to publish the file to the tracker")
	}
	if s.Phase != minibitv1alpha1.PhaseCompleted {
		p.setCondition(minibitv1alpha1.ConditionComplete, metav1.ConditionFalse, ReasonPeersDownloading,
			fmt.Sprintf("%d of %d peers hold the whole file", s.Completed, target))
	}
	switch {
	case p.contentMismatch:
		p.setCondition(minibitv1alpha1.ConditionDegraded, metav1.ConditionTrue, ReasonContentMismatch,
			"the tracker reports other content than the pinned info-hash")
	case len(s.Disruptions) > 0:
		p.setCondition(minibitv1alpha1.ConditionDegraded, metav1.ConditionTrue, ReasonPodsDisrupted,
			fmt.Sprintf("%d pods failed or were deleted and are not replaced (yet)", len(s.Disruptions)))
	case !reachable:
		p.setCondition(minibitv1alpha1.ConditionDegraded, metav1.ConditionTrue, ReasonTrackerUnreachable, "the tracker does not answer")
	default:
		p.setCondition(minibitv1alpha1.ConditionDegraded, metav1.ConditionFalse, ReasonAsExpected, "every pod is in place")
	}
	p.setCondition(minibitv1alpha1.ConditionFailed, metav1.ConditionFalse, ReasonWithinLimits,
		fmt.Sprintf("peer failures: %d of %d tolerated", s.Failed, p.st.maxFailures[RolePeer]))
}

// countRunningPeers counts the peer pods in phase Running and not being deleted.
func countRunningPeers(p *pass, obs *observed) int32 {
	var n int32
	for i := range p.st.count(RolePeer) {
		pod := obs.pods[PodName(p.swarm, RolePeer, i)]
		if pod != nil && pod.DeletionTimestamp.IsZero() && pod.Status.Phase == corev1.PodRunning {
			n++
		}
	}
	return n
}

// ignoredPeers counts the peers the swarm goes on without: disrupted under the Ignore action.
func ignoredPeers(p *pass) int32 {
	if p.st.replaces(RolePeer) {
		return 0
	}
	var n int32
	for _, d := range p.status.Disruptions {
		if sl, ok := slotOfName(p.swarm, d.Pod); ok && sl.role == RolePeer {
			n++
		}
	}
	return n
}

// peerProgress is each wanted peer's share of the file (1 for a pod that exited done or that
// the tracker lists as a seeder, the tracker's progress otherwise, 0 when it has not
// announced), summed up: how many are complete, the overall percent (rounded down) and the
// slowest few, slowest first. Peers the swarm goes on without are left out. Only announces
// from a pod's own IP speak for it.
func peerProgress(p *pass, obs *observed, announced []api.Peer) (int32, int32, []minibitv1alpha1.PeerProgress) {
	latest := latestByName(announced, obs)
	var (
		complete int32
		sum      float64
		all      []minibitv1alpha1.PeerProgress
		fracs    []float64
	)
	for i := range p.st.count(RolePeer) {
		name := PodName(p.swarm, RolePeer, i)
		if !p.st.replaces(RolePeer) && p.disruption(name) != nil {
			continue
		}
		frac := 0.0
		if pod := obs.pods[name]; pod != nil && pod.Status.Phase == corev1.PodSucceeded {
			frac = 1
		} else if peer, ok := latest[name]; ok {
			frac = min(max(peer.Progress, 0), 1)
			if peer.Seeder {
				frac = 1
			}
		}
		if frac >= 1 {
			complete++
		}
		sum += frac
		fracs = append(fracs, frac)
		all = append(all, minibitv1alpha1.PeerProgress{Name: name, ProgressPercent: percent(frac)})
	}
	if len(all) == 0 {
		return 0, 0, nil
	}
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpFloat(fracs[a], fracs[b]) })
	slowest := make([]minibitv1alpha1.PeerProgress, 0, min(MaxSlowestPeers, len(all)))
	for _, i := range order[:min(MaxSlowestPeers, len(order))] {
		slowest = append(slowest, all[i])
	}
	overall := percent(sum / float64(len(all)))
	if int(complete) < len(all) {
		overall = min(overall, 99) // 100 means done
	}
	return complete, overall, slowest
}

// latestByName keeps, for each pod, the peer heard from last among those that announced the
// pod's name from the pod's own IP. Any client can announce any name: an announce from another
// address (another pod, a forger) is not the pod's. A replaced pod's old peer lingers until the
// tracker drops it; its new IP leaves it out.
func latestByName(peers []api.Peer, obs *observed) map[string]api.Peer {
	latest := make(map[string]api.Peer, len(peers))
	for _, peer := range peers {
		if peer.Name == "" || !announcedFrom(peer, obs.pods[peer.Name]) {
			continue
		}
		if old, ok := latest[peer.Name]; !ok || peer.LastSeen.After(old.LastSeen) {
			latest[peer.Name] = peer
		}
	}
	return latest
}

// announcedFrom says whether a peer's announce came from the pod's IP (any of a dual-stack
// pod's). The tracker reports the announce's TCP source address, never a client's claim.
func announcedFrom(peer api.Peer, pod *corev1.Pod) bool {
	if pod == nil {
		return false
	}
	from, err := netip.ParseAddr(peer.IP)
	if err != nil {
		return false
	}
	from = from.Unmap()
	ips := []string{pod.Status.PodIP}
	for _, ip := range pod.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip); err == nil && a.Unmap() == from {
			return true
		}
	}
	return false
}

// percent turns a fraction into a percent rounded down, 0 to 100.
func percent(frac float64) int32 {
	return int32(min(max(frac*100+1e-9, 0), 100))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
