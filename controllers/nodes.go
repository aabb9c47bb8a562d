package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// Reasons of the Ready condition of a PerNode swarm.
const (
	ReasonNodeCacheEnabled  = "NodeCacheEnabled"
	ReasonNodeCacheDisabled = "NodeCacheDisabled"
	ReasonNodeLabelTooLong  = "NodeLabelTooLong"
)

// refuseNodeCache keeps a PerNode swarm without pods when the manager has no node cache
// (--node-cache-root empty) or its node label would not be a valid label key; pods it had
// (before the manager's flag changed) are deleted. It says whether it refused.
func (r *SwarmReconciler) refuseNodeCache(p *pass, obs *observed) bool {
	var reason, msg string
	switch {
	case r.NodeCacheRoot == "":
		reason, msg = ReasonNodeCacheDisabled, "placement.mode PerNode needs the node cache, which this cluster does not enable: the cluster admin starts the manager with --node-cache-root (such as /var/lib/minibit/cache)"
	case !nodeMarkFits(p.swarm):
		reason, msg = ReasonNodeLabelTooLong, fmt.Sprintf("the node label %s is not a valid label key: <namespace>.<swarm> must be at most 63 characters; use a shorter name", NodeMark(p.swarm))
	default:
		return false
	}
	p.status.Phase = minibitv1alpha1.PhasePending
	p.setCondition(minibitv1alpha1.ConditionReady, metav1.ConditionFalse, reason, msg)
	p.setCondition(minibitv1alpha1.ConditionProgressing, metav1.ConditionFalse, reason, msg)
	if !hasCondition(p.swarm, minibitv1alpha1.ConditionReady, reason) {
		p.record(corev1.EventTypeWarning, reason, "Refuse", "%s", msg)
	}
	for _, pod := range obs.pods {
		p.doomPod(pod)
	}
	return true
}

// reconcileNodes runs a PerNode swarm's peers: it lists the nodes, reads the peers' progress
// from the tracker, plans (placement, failure policy per node, waves, marks), creates the pods
// the plan asks for and computes the status. Labels change once the status is written.
func (r *SwarmReconciler) reconcileNodes(ctx context.Context, p *pass, obs *observed) error {
	var nodes corev1.NodeList
	if err := r.List(ctx, &nodes); err != nil {
		return fmt.Errorf("listing the nodes: %w", err)
	}
	answer, pollErr := r.poll(ctx, p)
	if pollErr != nil && !errors.Is(pollErr, ErrSwarmUnknown) {
		log.FromContext(ctx).V(1).Info("Tracker did not answer", "swarm", p.swarm.Name, "error", pollErr.Error())
	}
	reachable := pollErr == nil || errors.Is(pollErr, ErrSwarmUnknown)
	progress := map[string]float64{}
	if pollErr == nil && pinContent(p, answer) {
		for name, peer := range latestByName(answer.Peers, obs) {
			progress[name] = min(max(peer.Progress, 0), 1)
			if peer.Seeder {
				progress[name] = 1
			}
		}
	}
	plan := planNodes(p, nodes.Items, nodePods(obs), progress)
	if err := r.createNodePods(ctx, p, plan); err != nil {
		return err
	}
	p.mark, p.unmark = plan.mark, plan.unmark
	computeNodeStatus(p, plan, r.NodeCacheRoot, reachable, pollErr)
	p.wakeIn(r.period())
	return nil
}

// createNodePods creates the pods of the nodes the plan picked (the attempt label counts the
// node's failures so far).
func (r *SwarmReconciler) createNodePods(ctx context.Context, p *pass, plan *nodePlan) error {
	if len(plan.create) == 0 {
		return nil
	}
	failures := map[string]int32{}
	for _, rec := range p.status.Nodes.Records {
		failures[rec.Node] = rec.Failures
	}
	todo := make([]podToCreate, 0, len(plan.create))
	for _, node := range plan.create {
		todo = append(todo, podToCreate{pod: buildNodePod(p.swarm, r.Pods, r.NodeCacheRoot, node, failures[node])})
	}
	created, err := r.createPods(ctx, todo)
	n := 0
	for i, ok := range created {
		if ok {
			n++
			plan.active[plan.create[i]] = true
		}
	}
	if n > 0 {
		p.record(corev1.EventTypeNormal, "PodsCreated", "Create", "created %d node peer pods", n)
	}
	return err
}

// nodePods are the swarm's node peer pods by node name.
func nodePods(obs *observed) map[string]*corev1.Pod {
	pods := map[string]*corev1.Pod{}
	for _, pod := range obs.pods {
		if node := pod.Annotations[AnnotationNode]; node != "" && pod.Labels[LabelRole] == string(RolePeer) {
			pods[node] = pod
		}
	}
	return pods
}

// applyMarks sets and removes the node labels the pass decided, once its status is written:
// merge patches of the label alone, so that nothing else of the Node is written.
func (r *SwarmReconciler) applyMarks(ctx context.Context, p *pass) error {
	key := NodeMark(p.swarm)
	var errs []error
	for _, name := range p.mark {
		errs = append(errs, r.patchNodeLabel(ctx, name, key, true))
	}
	for _, name := range p.unmark {
		errs = append(errs, r.patchNodeLabel(ctx, name, key, false))
	}
	if n := len(p.mark); n > 0 {
		r.event(p.swarm, corev1.EventTypeNormal, "NodesMarked", "Mark", "%d nodes hold a verified copy: labelled %s=true", n, key)
	}
	p.mark, p.unmark = nil, nil
	return errors.Join(errs...)
}

// patchNodeLabel sets (true) or removes one label of a node with a merge patch; a node gone
// is no error.
func (r *SwarmReconciler) patchNodeLabel(ctx context.Context, name, key string, set bool) error {
	var value any // JSON null removes the label
	if set {
		value = "true"
	}
	patch := map[string]any{"metadata": map[string]any{"labels": map[string]any{key: value}}}
	node := &corev1.Node{}
	node.Name = name
	data, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	err = r.Patch(ctx, node, client.RawPatch(types.MergePatchType, data))
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("labelling node %s: %w", name, err)
	}
	return nil
}

// event sends an Event about a Swarm at once (outside a pass).
func (r *SwarmReconciler) event(s *minibitv1alpha1.Swarm, kind, reason, action, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(s, nil, kind, reason, action, format, args...)
	}
}

// hasCondition says whether a Swarm's stored status has a condition of that type and reason.
func hasCondition(s *minibitv1alpha1.Swarm, kind, reason string) bool {
	for _, c := range s.Status.Conditions {
		if c.Type == kind {
			return c.Reason == reason
		}
	}
	return false
}
