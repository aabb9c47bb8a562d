package controllers

import (
	"context"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// perNodeSwarms maps a Node's change to every PerNode Swarm: a node that comes may match, a
// node that goes or changes may leave.
func (r *SwarmReconciler) perNodeSwarms(ctx context.Context, _ client.Object) []reconcile.Request {
	var swarms minibitv1alpha1.SwarmList
	if err := r.List(ctx, &swarms); err != nil {
		log.FromContext(ctx).Error(err, "Listing the Swarms for a node's change")
		return nil
	}
	var reqs []reconcile.Request
	for i := range swarms.Items {
		if perNode(&swarms.Items[i]) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&swarms.Items[i])})
		}
	}
	return reqs
}

// nodeChanged passes the Node events that can change a placement: creations, deletions, and
// updates of labels, taints, schedulability, readiness or deletion (not the status heartbeats).
func nodeChanged() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e ctrlevent.UpdateEvent) bool {
		old, okOld := e.ObjectOld.(*corev1.Node)
		cur, okNew := e.ObjectNew.(*corev1.Node)
		if !okOld || !okNew {
			return true
		}
		return !maps.Equal(old.Labels, cur.Labels) ||
			!slices.EqualFunc(old.Spec.Taints, cur.Spec.Taints, func(a, b corev1.Taint) bool { return a.MatchTaint(&b) && a.Value == b.Value }) ||
			old.Spec.Unschedulable != cur.Spec.Unschedulable ||
			nodeReady(old) != nodeReady(cur) ||
			old.DeletionTimestamp.IsZero() != cur.DeletionTimestamp.IsZero()
	}}
}

// cleanPodSwarm maps a clean-up pod (which has no owner reference) to its Swarm.
func cleanPodSwarm(_ context.Context, obj client.Object) []reconcile.Request {
	l := obj.GetLabels()
	if l[LabelRole] != string(RoleClean) || l[LabelSwarm] == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: l[LabelSwarm]}}}
}
