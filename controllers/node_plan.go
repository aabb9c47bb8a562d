package controllers

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// nodePlan is what one pass decides for a PerNode swarm's nodes: the nodes that get a peer pod
// now and the nodes whose label to set or remove (applied once the status is written). Pods to
// delete go to the pass's doomed list.
type nodePlan struct {
	create        []string
	mark, unmark  []string
	wanted        map[string]bool
	active        map[string]bool
	progress      map[string]float64
	failedMatches int32
}

// planNodes applies the placement to the nodes and the node peer pods a pass sees: which nodes
// are wanted (Ready and matching, or matching and still running a peer), the failure policy per
// node, which copies are verified (progress 1 from the pod's own IP), which wanted nodes get a
// pod now (waves of at most parallelism downloading at once), and the node labels. progress is
// each pod's reported fraction by pod name (nil when the tracker gave none).
func planNodes(p *pass, nodes []corev1.Node, pods map[string]*corev1.Pod, progress map[string]float64) *nodePlan {
	records := recordsByNode(p)
	plan := &nodePlan{wanted: map[string]bool{}, active: map[string]bool{}, progress: map[string]float64{}}
	exists := make(map[string]bool, len(nodes))
	pl := p.swarm.Spec.Placement
	for i := range nodes {
		node := &nodes[i]
		exists[node.Name] = true
		pod := pods[node.Name]
		if nodeMatches(node, pl) && (nodeReady(node) || (pod != nil && podActive(pod))) {
			plan.wanted[node.Name] = true
		}
	}
	for node, pod := range pods {
		plan.applyPod(p, records, node, pod, progress)
	}
	plan.chooseCreations(p, records, pods)
	plan.chooseMarks(p, records, nodes)
	for name := range plan.wanted {
		if records[name] != nil && records[name].Failed {
			plan.failedMatches++
		}
	}
	saveRecords(p, records, exists)
	return plan
}

// applyPod handles one node peer pod: deleted when its node is no longer wanted, counted once
// against its node when it failed (then replaced after the backoff, or the node is left out),
// and its node's copy verified when it reports the whole file.
func (plan *nodePlan) applyPod(p *pass, records map[string]*minibitv1alpha1.NodeRecord, node string, pod *corev1.Pod, progress map[string]float64) {
	rec := records[node]
	if !plan.wanted[node] {
		if rec != nil {
			rec.Verified = false
		}
		p.doomPod(pod)
		return
	}
	if rec == nil {
		rec = &minibitv1alpha1.NodeRecord{Node: node}
		records[node] = rec
	}
	switch {
	case pod.Status.Phase == corev1.PodFailed && string(pod.UID) != rec.FailedUID:
		p.nodePodFailed(rec, pod)
	case pod.Status.Phase == corev1.PodFailed && !rec.Failed, pod.Status.Phase == corev1.PodSucceeded:
		p.doomPod(pod) // counted already (or no failure): replace it
	case podActive(pod):
		plan.active[node] = true
		frac := progress[pod.Name]
		if frac >= 1 {
			rec.Verified, rec.Cached = true, true
		}
		plan.progress[node] = frac
	}
}

// nodePodFailed counts a failed pod against its node: under Replace the pod is deleted and its
// replacement waits for the backoff; once the node's failures exceed maxPeerFailures (or at
// once under Ignore) the node is left out, its pod kept for its logs.
func (p *pass) nodePodFailed(rec *minibitv1alpha1.NodeRecord, pod *corev1.Pod) {
	rec.Failures++
	rec.FailedUID = string(pod.UID)
	rec.Verified = false
	limit := p.st.maxFailures[RolePeer]
	if !p.st.replaces(RolePeer) || rec.Failures > limit {
		rec.Failed = true
		p.record(corev1.EventTypeWarning, "NodeFailed", "Ignore", "peer %s on node %s failed (%d failures, %d tolerated per node): the swarm goes on without the node",
			pod.Name, rec.Node, rec.Failures, limit)
		return
	}
	wait := p.backoffDelay(rec.Failures - 1)
	rec.RetryAfter = &metav1.Time{Time: p.now.Add(wait)}
	p.doomPod(pod)
	p.record(corev1.EventTypeWarning, "PodReplacing", "Replace", "peer %s on node %s failed: replacing it in %s (node failures: %d of %d tolerated)",
		pod.Name, rec.Node, wait, rec.Failures, limit)
}

// chooseCreations picks the wanted nodes without a pod that get one now: every node whose copy
// is verified (its replacement serves at once), then the others in name order while fewer than
// parallelism nodes download (0: no bound). A node waiting for its backoff wakes the pass then.
func (plan *nodePlan) chooseCreations(p *pass, records map[string]*minibitv1alpha1.NodeRecord, pods map[string]*corev1.Pod) {
	downloading := 0
	for node := range plan.active {
		if rec := records[node]; rec == nil || !rec.Verified {
			downloading++
		}
	}
	var waiting []string
	for node := range plan.wanted {
		rec := records[node]
		if pods[node] != nil || rec != nil && rec.Failed {
			continue
		}
		if rec != nil && rec.RetryAfter != nil && rec.RetryAfter.After(p.now) {
			p.wakeIn(rec.RetryAfter.Sub(p.now))
			continue
		}
		if rec != nil && rec.Verified {
			plan.create = append(plan.create, node)
			continue
		}
		waiting = append(waiting, node)
	}
	slices.Sort(waiting)
	for _, node := range waiting {
		if p.st.parallelism > 0 && downloading >= int(p.st.parallelism) {
			break
		}
		plan.create = append(plan.create, node)
		downloading++
	}
	slices.Sort(plan.create)
}

// chooseMarks sets the label on every wanted node whose copy is verified, and removes it from
// every other node that carries it.
func (plan *nodePlan) chooseMarks(p *pass, records map[string]*minibitv1alpha1.NodeRecord, nodes []corev1.Node) {
	key := NodeMark(p.swarm)
	for i := range nodes {
		name := nodes[i].Name
		rec := records[name]
		want := plan.wanted[name] && rec != nil && rec.Verified && !rec.Failed
		if rec != nil && !want {
			rec.Verified = false
		}
		_, has := nodes[i].Labels[key]
		switch {
		case want && nodes[i].Labels[key] != "true":
			plan.mark = append(plan.mark, name)
		case has && !want:
			plan.unmark = append(plan.unmark, name)
		}
	}
}

// recordsByNode copies the status's node records into a map the plan may change.
func recordsByNode(p *pass) map[string]*minibitv1alpha1.NodeRecord {
	records := map[string]*minibitv1alpha1.NodeRecord{}
	if p.status.Nodes == nil {
		return records
	}
	for _, rec := range p.status.Nodes.Records {
		records[rec.Node] = rec.DeepCopy()
	}
	return records
}

// saveRecords writes back the records worth keeping, in name order: nodes that still exist and
// failed, hold a copy, or held one (to be released when the Swarm goes).
func saveRecords(p *pass, records map[string]*minibitv1alpha1.NodeRecord, exists map[string]bool) {
	if p.status.Nodes == nil {
		p.status.Nodes = &minibitv1alpha1.NodesStatus{}
	}
	var kept []minibitv1alpha1.NodeRecord
	for _, rec := range records {
		if exists[rec.Node] && (rec.Failures > 0 || rec.Cached || rec.Failed) {
			kept = append(kept, *rec)
		}
	}
	slices.SortFunc(kept, func(a, b minibitv1alpha1.NodeRecord) int {
		switch {
		case a.Node < b.Node:
			return -1
		case a.Node > b.Node:
			return 1
		}
		return 0
	})
	p.status.Nodes.Records = kept
}

// doomPod schedules a pod's deletion (once the status is written), unless it is going already.
func (p *pass) doomPod(pod *corev1.Pod) {
	if pod.DeletionTimestamp.IsZero() {
		p.doomed = append(p.doomed, pod)
	}
}
