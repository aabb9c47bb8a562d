package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

func testNode(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       corev1.NodeSpec{Taints: taints},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
	}
}

func required(terms ...corev1.NodeSelectorTerm) *corev1.NodeAffinity {
	return &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms}}
}

func expr(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func TestNodeMatches(t *testing.T) {
	gpu := map[string]string{"pool": "gpu", "gpus": "8"}
	noSchedule := corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}
	tolerateGPU := []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
	tests := []struct {
		name string
		node *corev1.Node
		pl   *minibitv1alpha1.Placement
		want bool
	}{
		{"no placement matches all", testNode("a", nil), nil, true},
		{"selector matches", testNode("a", gpu), &minibitv1alpha1.Placement{NodeSelector: map[string]string{"pool": "gpu"}}, true},
		{"selector misses", testNode("a", gpu), &minibitv1alpha1.Placement{NodeSelector: map[string]string{"pool": "cpu"}}, false},
		{"affinity In", testNode("a", gpu), &minibitv1alpha1.Placement{Affinity: required(expr("pool", corev1.NodeSelectorOpIn, "gpu", "tpu"))}, true},
		{"affinity NotIn", testNode("a", gpu), &minibitv1alpha1.Placement{Affinity: required(expr("pool", corev1.NodeSelectorOpNotIn, "gpu"))}, false},
		{"affinity Exists", testNode("a", gpu), &minibitv1alpha1.Placement{Affinity: required(expr("gpus", corev1.NodeSelectorOpExists))}, true},
		{"affinity DoesNotExist", testNode("a", gpu), &minibitv1alpha1.Placement{Affinity: required(expr("gpus", corev1.NodeSelectorOpDoesNotExist))}, false},
		{"affinity Gt", testNode("a", gpu), &minibitv1alpha1.Placement{Affinity: required(expr("gpus", corev1.NodeSelectorOpGt, "4"))}, true},
		{"affinity Lt", testNode("a", gpu), &minibitv1alpha1.Placement{Affinity: required(expr("gpus", corev1.NodeSelectorOpLt, "4"))}, false},
		{"affinity Gt with a word matches nothing", testNode("a", gpu), &minibitv1alpha1.Placement{Affinity: required(expr("gpus", corev1.NodeSelectorOpGt, "many"))}, false},
		{"terms are ORed", testNode("a", gpu), &minibitv1alpha1.Placement{Affinity: required(
			expr("pool", corev1.NodeSelectorOpIn, "cpu"), expr("pool", corev1.NodeSelectorOpIn, "gpu"))}, true},
		{"an empty term matches nothing", testNode("a", gpu), &minibitv1alpha1.Placement{Affinity: required(corev1.NodeSelectorTerm{})}, false},
		{"no terms match nothing", testNode("a", gpu), &minibitv1alpha1.Placement{Affinity: required()}, false},
		{"matchFields on the name", testNode("a", gpu), &minibitv1alpha1.Placement{Affinity: required(corev1.NodeSelectorTerm{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}})}, true},
		{"matchFields on another field", testNode("a", gpu), &minibitv1alpha1.Placement{Affinity: required(corev1.NodeSelectorTerm{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: "spec.podCIDR", Operator: corev1.NodeSelectorOpExists}}})}, false},
		{"selector and affinity both must match", testNode("a", gpu), &minibitv1alpha1.Placement{
			NodeSelector: map[string]string{"pool": "cpu"}, Affinity: required(expr("pool", corev1.NodeSelectorOpIn, "gpu"))}, false},
		{"an untolerated NoSchedule taint", testNode("a", gpu, noSchedule), &minibitv1alpha1.Placement{}, false},
		{"a tolerated NoSchedule taint", testNode("a", gpu, noSchedule), &minibitv1alpha1.Placement{Tolerations: tolerateGPU}, true},
		{"an untolerated NoExecute taint", testNode("a", gpu, corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoExecute}),
			&minibitv1alpha1.Placement{Tolerations: tolerateGPU}, false},
		{"a PreferNoSchedule taint never keeps a peer away", testNode("a", gpu, corev1.Taint{Key: "k", Effect: corev1.TaintEffectPreferNoSchedule}),
			&minibitv1alpha1.Placement{}, true},
		{"Exists without a key tolerates all", testNode("a", gpu, noSchedule),
			&minibitv1alpha1.Placement{Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nodeMatches(tt.node, tt.pl); got != tt.want {
				t.Errorf("nodeMatches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNodeReady(t *testing.T) {
	n := testNode("a", nil)
	if !nodeReady(n) {
		t.Error("a Ready node is not ready")
	}
	n.Status.Conditions[0].Status = corev1.ConditionUnknown
	if nodeReady(n) {
		t.Error("a node of unknown readiness is ready")
	}
	n.Status.Conditions = nil
	if nodeReady(n) {
		t.Error("a node without conditions is ready")
	}
	n = testNode("a", nil)
	n.DeletionTimestamp = ptr.To(metav1.Now())
	if nodeReady(n) {
		t.Error("a node being deleted is ready")
	}
}
