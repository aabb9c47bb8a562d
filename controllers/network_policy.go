package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// Labels of the manager's pods (config/manager), which the tracker admits.
var managerPodLabels = map[string]string{
	"app.kubernetes.io/name":      "minibit",
	"app.kubernetes.io/component": "manager",
}

// NetworkPolicyName is the name of a swarm's NetworkPolicy: <swarm>-isolation.
func NetworkPolicyName(s *minibitv1alpha1.Swarm) string { return s.Name + "-isolation" }

// buildNetworkPolicy is the swarm's isolation, ingress only (egress is untouched): every pod of
// the swarm accepts the BitTorrent and tracker ports from the swarm's own pods only, and the
// tracker port also from the manager's pods in managerNamespace (none when it is empty: a
// manager outside the cluster is no pod). Peers do not listen on the tracker port, so the
// manager reaches the tracker alone.
func buildNetworkPolicy(s *minibitv1alpha1.Swarm, managerNamespace string) *networkingv1.NetworkPolicy {
	swarmPods := metav1.LabelSelector{MatchLabels: map[string]string{LabelSwarm: s.Name}}
	rules := []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &swarmPods}},
		Ports: []networkingv1.NetworkPolicyPort{tcpPort(peerPort), tcpPort(trackerPort)},
	}}
	if managerNamespace != "" {
		rules = append(rules, networkingv1.NetworkPolicyIngressRule{
			From: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: managerNamespace}},
				PodSelector:       &metav1.LabelSelector{MatchLabels: managerPodLabels},
			}},
			Ports: []networkingv1.NetworkPolicyPort{tcpPort(trackerPort)},
		})
	}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: ownedMeta(s, NetworkPolicyName(s), "isolation"),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: swarmPods,
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     rules,
		},
	}
}

func tcpPort(n int) networkingv1.NetworkPolicyPort {
	protocol := corev1.ProtocolTCP
	port := intstr.FromInt32(int32(n))
	return networkingv1.NetworkPolicyPort{Protocol: &protocol, Port: &port}
}

// reconcileNetworkPolicy creates the swarm's NetworkPolicy, puts back its spec when it drifted,
// or deletes it when spec.networkPolicy.enabled is false. A NetworkPolicy of that name that the
// Swarm does not control fails the swarm: it would run without the isolation it asked for.
func (r *SwarmReconciler) reconcileNetworkPolicy(ctx context.Context, p *pass, obs *observed) error {
	current := obs.networkPolicy
	if !p.st.networkPolicy {
		return r.deleteNetworkPolicy(ctx, p, current)
	}
	if current != nil && !controlledBy(current, p.swarm) {
		p.fail(ReasonNameConflict, nameConflict("NetworkPolicy", current.Name))
		return nil
	}
	want := buildNetworkPolicy(p.swarm, r.ManagerNamespace)
	if current == nil {
		ours, err := r.createOwned(ctx, p.swarm, want)
		if err != nil {
			return fmt.Errorf("creating the NetworkPolicy: %w", err)
		}
		if !ours {
			p.fail(ReasonNameConflict, nameConflict("NetworkPolicy", want.Name))
		}
		return nil
	}
	if equality.Semantic.DeepEqual(current.Spec, want.Spec) {
		return nil
	}
	updated := current.DeepCopy()
	updated.Spec = want.Spec
	if err := r.Update(ctx, updated); err != nil {
		return fmt.Errorf("restoring the NetworkPolicy: %w", err)
	}
	p.record(corev1.EventTypeWarning, "NetworkPolicyRestored", "Update", "NetworkPolicy %s was changed: its rules were put back", current.Name)
	return nil
}

// deleteNetworkPolicy deletes the swarm's NetworkPolicy (turned off); someone else's policy of
// that name is theirs to keep.
func (r *SwarmReconciler) deleteNetworkPolicy(ctx context.Context, p *pass, current *networkingv1.NetworkPolicy) error {
	if current == nil || !controlledBy(current, p.swarm) || !current.DeletionTimestamp.IsZero() {
		return nil
	}
	if err := r.Delete(ctx, current, client.Preconditions{UID: &current.UID}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting the NetworkPolicy: %w", err)
	}
	p.record(corev1.EventTypeNormal, "NetworkPolicyDeleted", "Delete", "deleted NetworkPolicy %s: spec.networkPolicy.enabled is false", current.Name)
	return nil
}
