package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// TestPerNodeRefused reconciles PerNode Swarms the manager must refuse (no --node-cache-root; a
// node label too long) against a fake API: condition Ready=False with the reason, phase
// Pending, and no pod, not even the tracker.
func TestPerNodeRefused(t *testing.T) {
	tests := []struct {
		name, root, reason string
		swarm              func() *minibitv1alpha1.Swarm
	}{
		{"no node cache root", "", ReasonNodeCacheDisabled, perNodeTestSwarm},
		{"a node label too long", testNodeCacheRoot, ReasonNodeLabelTooLong, func() *minibitv1alpha1.Swarm {
			s := perNodeTestSwarm()
			s.Namespace = strings.Repeat("n", 40)
			s.Name = strings.Repeat("s", 30)
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scheme := runtime.NewScheme()
			if err := clientgoscheme.AddToScheme(scheme); err != nil {
				t.Fatal(err)
			}
			if err := minibitv1alpha1.AddToScheme(scheme); err != nil {
				t.Fatal(err)
			}
			s := tt.swarm()
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(s, testNode("n1", nil)).
				WithStatusSubresource(&minibitv1alpha1.Swarm{}).
				WithIndex(&corev1.Pod{}, ownerIndex, swarmOwnerName).Build()
			r := &SwarmReconciler{Client: c, Scheme: scheme, NodeCacheRoot: tt.root, Now: time.Now, Progress: HTTPProgress{}}
			req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(s)}
			for range 2 { // the first adds the finalizer
				if _, err := r.Reconcile(context.Background(), req); err != nil {
					t.Fatal(err)
				}
			}
			var got minibitv1alpha1.Swarm
			if err := c.Get(context.Background(), req.NamespacedName, &got); err != nil {
				t.Fatal(err)
			}
			cond := meta.FindStatusCondition(got.Status.Conditions, minibitv1alpha1.ConditionReady)
			if cond == nil || cond.Status != metav1.ConditionFalse || cond.Reason != tt.reason {
				t.Errorf("Ready condition %+v, want False %s", cond, tt.reason)
			}
			if got.Status.Phase != minibitv1alpha1.PhasePending {
				t.Errorf("phase %q, want Pending", got.Status.Phase)
			}
			var pods corev1.PodList
			if err := c.List(context.Background(), &pods); err != nil || len(pods.Items) != 0 {
				t.Errorf("pods: %d %v, want none", len(pods.Items), err)
			}
		})
	}
}
