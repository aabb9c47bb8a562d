package controllers

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// MaxSlowestNodes bounds status.nodes.slowest.
const MaxSlowestNodes = 5

// ReasonNodesFailed is the Degraded reason of a PerNode swarm that left nodes out.
const ReasonNodesFailed = "NodesFailed"

// computeNodeStatus fills a PerNode swarm's status from the plan: the node counts, the slowest
// nodes, the overall progress and the phase (Completed once every wanted node holds a verified
// copy; a node that matches later makes it Distributing again).
func computeNodeStatus(p *pass, plan *nodePlan, root string, reachable bool, pollErr error) {
	s := p.status
	n := s.Nodes
	n.Label, n.Path = NodeMark(p.swarm), NodeCachePath(root, p.swarm)
	n.Wanted, n.Ready, n.Downloading, n.Failed = 0, 0, 0, plan.failedMatches
	verified := map[string]bool{}
	var failures int32
	for _, rec := range n.Records {
		verified[rec.Node] = rec.Verified
		failures += rec.Failures
	}
	var all []minibitv1alpha1.NodeProgress
	var sum float64
	for node := range plan.wanted {
		if slices.ContainsFunc(n.Records, func(r minibitv1alpha1.NodeRecord) bool { return r.Node == node && r.Failed }) {
			continue
		}
		n.Wanted++
		frac := plan.progress[node]
		switch {
		case verified[node]:
			n.Ready++
			frac = 1
		case plan.active[node]:
			n.Downloading++
		}
		sum += frac
		all = append(all, minibitv1alpha1.NodeProgress{Node: node, ProgressPercent: percent(frac)})
	}
	slices.SortFunc(all, func(a, b minibitv1alpha1.NodeProgress) int {
		if a.ProgressPercent != b.ProgressPercent {
			return int(a.ProgressPercent - b.ProgressPercent)
		}
		return strings.Compare(a.Node, b.Node)
	})
	n.Slowest = nil
	if len(all) > 0 {
		n.Slowest = all[:min(MaxSlowestNodes, len(all))]
	}
	s.Desired, s.Completed, s.Running, s.Failed = n.Wanted, n.Ready, int32(len(plan.active)), failures
	s.ProgressPercent = 0
	if n.Wanted > 0 {
		s.ProgressPercent = percent(sum / float64(n.Wanted))
		if n.Ready < n.Wanted {
			s.ProgressPercent = min(s.ProgressPercent, 99)
		}
	}
	setNodePhase(p, reachable, pollErr)
}

// setNodePhase sets the phase and the conditions of a PerNode swarm from its node counts.
func setNodePhase(p *pass, reachable bool, pollErr error) {
	s, n := p.status, p.status.Nodes
	switch {
	case n.Wanted > 0 && n.Ready == n.Wanted:
		if s.Phase != minibitv1alpha1.PhaseCompleted {
			p.record("Normal", "SwarmCompleted", "Complete", "all %d wanted nodes hold a verified copy", n.Ready)
			s.CompletionTime = &metav1.Time{Time: p.now}
		}
		s.Phase = minibitv1alpha1.PhaseCompleted
	case s.InfoHash != "":
		s.Phase, s.CompletionTime = minibitv1alpha1.PhaseDistributing, nil
	default:
		s.Phase, s.CompletionTime = minibitv1alpha1.PhasePending, nil
	}
	setConditions(p, n.Wanted, reachable, pollErr)
	if n.Failed > 0 && !p.contentMismatch {
		p.setCondition(minibitv1alpha1.ConditionDegraded, metav1.ConditionTrue, ReasonNodesFailed,
			fmt.Sprintf("%d matching nodes failed more often than the failure policy tolerates and are left out", n.Failed))
	}
	p.setCondition(minibitv1alpha1.ConditionFailed, metav1.ConditionFalse, ReasonWithinLimits,
		fmt.Sprintf("node failures are counted per node: %d tolerated on each", p.st.maxFailures[RolePeer]))
	p.setCondition(minibitv1alpha1.ConditionReady, metav1.ConditionTrue, ReasonNodeCacheEnabled,
		"the manager's node cache is enabled: one peer runs on every matching node")
}
