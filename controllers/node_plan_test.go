package controllers

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

func planSwarm(parallelism int32) *minibitv1alpha1.Swarm {
	s := perNodeTestSwarm()
	s.Spec.Placement.NodeSelector = map[string]string{"pool": "gpu"}
	s.Spec.Placement.Parallelism = parallelism
	return s
}

func TestPlanNodesWaves(t *testing.T) {
	nodes := []corev1.Node{*testNode("c", map[string]string{"pool": "gpu"}), *testNode("a", map[string]string{"pool": "gpu"}),
		*testNode("b", map[string]string{"pool": "gpu"}), *testNode("x", map[string]string{"pool": "cpu"})}
	p := newPass(planSwarm(1), time.Now())
	plan := planNodes(p, nodes, nil, nil)
	if diff := cmp.Diff([]string{"a"}, plan.create); diff != "" {
		t.Errorf("first wave (-want +got):\n%s", diff)
	}
	p = newPass(planSwarm(0), time.Now())
	plan = planNodes(p, nodes, nil, nil)
	if diff := cmp.Diff([]string{"a", "b", "c"}, plan.create); diff != "" {
		t.Errorf("parallelism 0 (-want +got):\n%s", diff)
	}
}
