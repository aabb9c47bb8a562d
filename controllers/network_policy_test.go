package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/minibit-io/minibit/internal/swarmtest"
)

func TestBuildNetworkPolicy(t *testing.T) {
	s := swarmtest.MakeSwarm("demo", "ns").UID("uid-1").Obj()
	np := buildNetworkPolicy(s, "minibit-system")
	if np.Name != "demo-isolation" || np.Namespace != "ns" || !controlledBy(np, s) {
		t.Errorf("identity %s/%s, owner %+v", np.Namespace, np.Name, np.OwnerReferences)
	}
	if np.Labels[LabelManagedBy] != ManagedByValue {
		t.Errorf("labels %v: the manager's cache would not see it", np.Labels)
	}
	swarmPods := metav1.LabelSelector{MatchLabels: map[string]string{LabelSwarm: "demo"}}
	want := networkingv1.NetworkPolicySpec{
		PodSelector: swarmPods,
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, // egress untouched
		Ingress: []networkingv1.NetworkPolicyIngressRule{{
			From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &swarmPods}},
			Ports: []networkingv1.NetworkPolicyPort{tcp(6881), tcp(8080)},
		}, {
			// One peer with both selectors: the manager's pods in the manager's namespace, not
			// any pod there nor a pod so labelled anywhere.
			From: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "minibit-system"}},
				PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "minibit", "app.kubernetes.io/component": "manager"}},
			}},
			Ports: []networkingv1.NetworkPolicyPort{tcp(8080)},
		}},
	}
	if diff := cmp.Diff(want, np.Spec); diff != "" {
		t.Errorf("NetworkPolicy spec mismatch (-want +got):\n%s", diff)
	}
	if rules := buildNetworkPolicy(s, "").Spec.Ingress; len(rules) != 1 {
		t.Errorf("without a manager namespace: %d rules, want only the swarm's own pods", len(rules))
	}
}

// Every pod of the swarm carries the label the policy admits; nothing else the policy selects.
func TestNetworkPolicySelectsTheSwarmsPods(t *testing.T) {
	s := swarmtest.MakeSwarm("demo", "ns").Obj()
	np := buildNetworkPolicy(s, "m")
	for _, role := range []Role{RoleTracker, RoleSeeder, RolePeer} {
		pod := buildPod(s, PodDefaults{}, role, 0, 0)
		for k, v := range np.Spec.PodSelector.MatchLabels {
			if pod.Labels[k] != v {
				t.Errorf("%s pod labels %v miss %s=%s", role, pod.Labels, k, v)
			}
		}
	}
	other := buildPod(swarmtest.MakeSwarm("other", "ns").Obj(), PodDefaults{}, RolePeer, 0, 0)
	if other.Labels[LabelSwarm] == "demo" {
		t.Error("another swarm's pod is admitted")
	}
}

func tcp(port int32) networkingv1.NetworkPolicyPort {
	p := corev1.ProtocolTCP
	n := intstr.FromInt32(port)
	return networkingv1.NetworkPolicyPort{Protocol: &p, Port: &n}
}
