package controllers

import (
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// perNode says whether a Swarm places one peer on every matching node.
func perNode(s *minibitv1alpha1.Swarm) bool {
	return s.Spec.Placement != nil && s.Spec.Placement.Mode == minibitv1alpha1.PlacementPerNode
}

// nodeMatches says whether a node is one a PerNode swarm wants: it has the placement's
// nodeSelector labels, satisfies its required node affinity, and every NoSchedule or NoExecute
// taint it carries is tolerated. Readiness is nodeReady's.
func nodeMatches(node *corev1.Node, pl *minibitv1alpha1.Placement) bool {
	if pl == nil {
		return true
	}
	if !labels.SelectorFromSet(pl.NodeSelector).Matches(labels.Set(node.Labels)) {
		return false
	}
	if a := pl.Affinity; a != nil && a.RequiredDuringSchedulingIgnoredDuringExecution != nil &&
		!nodeSelectorMatches(a.RequiredDuringSchedulingIgnoredDuringExecution, node) {
		return false
	}
	return toleratesNode(node, pl.Tolerations)
}

// nodeSelectorMatches evaluates a required node selector as the scheduler does: its terms are
// ORed, a term's expressions (on labels) and fields (metadata.name only) are ANDed, and an
// empty term, or a term with an invalid requirement, matches nothing.
func nodeSelectorMatches(sel *corev1.NodeSelector, node *corev1.Node) bool {
	for i := range sel.NodeSelectorTerms {
		if termMatches(&sel.NodeSelectorTerms[i], node) {
			return true
		}
	}
	return false
}

func termMatches(term *corev1.NodeSelectorTerm, node *corev1.Node) bool {
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return false
	}
	for _, req := range term.MatchExpressions {
		if !requirementMatches(req, labels.Set(node.Labels)) {
			return false
		}
	}
	for _, req := range term.MatchFields {
		if req.Key != "metadata.name" || !requirementMatches(req, labels.Set{"metadata.name": node.Name}) {
			return false
		}
	}
	return true
}

// nodeSelectorOps maps a node selector operator to the label selector's.
var nodeSelectorOps = map[corev1.NodeSelectorOperator]selection.Operator{
	corev1.NodeSelectorOpIn:           selection.In,
	corev1.NodeSelectorOpNotIn:        selection.NotIn,
	corev1.NodeSelectorOpExists:       selection.Exists,
	corev1.NodeSelectorOpDoesNotExist: selection.DoesNotExist,
	corev1.NodeSelectorOpGt:           selection.GreaterThan,
	corev1.NodeSelectorOpLt:           selection.LessThan,
}

// requirementMatches evaluates one requirement against a set; an unknown operator or an invalid
// requirement (a bad value, Gt with a non-integer) matches nothing.
func requirementMatches(req corev1.NodeSelectorRequirement, set labels.Set) bool {
	op, ok := nodeSelectorOps[req.Operator]
	if !ok {
		return false
	}
	r, err := labels.NewRequirement(req.Key, op, req.Values)
	if err != nil {
		return false
	}
	return r.Matches(set)
}

// toleratesNode says whether tolerations tolerate every NoSchedule and NoExecute taint of a
// node (PreferNoSchedule taints never keep a peer away).
func toleratesNode(node *corev1.Node, tolerations []corev1.Toleration) bool {
	for i := range node.Spec.Taints {
		taint := &node.Spec.Taints[i]
		if taint.Effect != corev1.TaintEffectNoSchedule && taint.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if !tolerates(tolerations, taint) {
			return false
		}
	}
	return true
}

func tolerates(tolerations []corev1.Toleration, taint *corev1.Taint) bool {
	for i := range tolerations {
		if tolerations[i].ToleratesTaint(logr.Discard(), taint, false) {
			return true
		}
	}
	return false
}

// nodeReady says whether a node's Ready condition is True and it is not being deleted.
func nodeReady(node *corev1.Node) bool {
	if !node.DeletionTimestamp.IsZero() {
		return false
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
