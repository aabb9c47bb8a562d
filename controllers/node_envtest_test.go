package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/swarmtest"
)

// testNodeLabel selects one spec's nodes: the Nodes are cluster-wide, shared by every spec.
const testNodeLabel = "minibit.test/spec"

var _ = Describe("PerNode placement", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	// node creates a Node of this spec (labelled for its selector unless matching is false),
	// Ready or not, and deletes it when the spec ends.
	node := func(name string, matching, ready bool, taints ...corev1.Taint) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + name, Labels: map[string]string{}}, Spec: corev1.NodeSpec{Taints: taints}}
		if matching {
			n.Labels[testNodeLabel] = ns
		}
		Expect(k8sClient.Create(ctx, n)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(context.Background(), n))).To(Succeed()) })
		setNodeReady(ctx, n.Name, ready)
		return n
	}
	perNodeSwarm := func(name string, parallelism int32) *minibitv1alpha1.Swarm {
		s := swarmtest.MakeSwarm(name, ns).Backoff(200 * time.Millisecond).Obj()
		s.Spec.Placement = &minibitv1alpha1.Placement{
			Mode: minibitv1alpha1.PlacementPerNode, NodeSelector: map[string]string{testNodeLabel: ns}, Parallelism: parallelism,
		}
		return s
	}
	nodePodNames := func(s *minibitv1alpha1.Swarm) func() ([]string, error) {
		return func() ([]string, error) {
			var pods corev1.PodList
			err := k8sClient.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{LabelSwarm: s.Name, LabelRole: "peer"})
			names := []string{}
			for _, p := range pods.Items {
				if p.DeletionTimestamp.IsZero() {
					names = append(names, p.Annotations[AnnotationNode])
				}
			}
			slices.Sort(names)
			return names, err
		}
	}
	// verify plays the node's peer: its pod runs at 127.0.0.1 and announces the whole file.
	verify := func(s *minibitv1alpha1.Swarm, mi *metainfo.MetaInfo, node string, port int) {
		pod := NodePodName(s, node)
		Eventually(getPod(ctx, ns, pod), timeout, interval).Should(Not(BeNil()))
		setPodIP(ctx, ns, pod, "127.0.0.1")
		announce(ctx, mi, pod, port, 0, "completed")
	}

	It("puts one pinned peer on every matching Ready node, lets nodes that match later join, and marks verified nodes", func() {
		n1 := node("n1", true, true)
		n2 := node("n2", true, false)
		n3 := node("n3", false, true)
		n4 := node("n4", true, true, corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule})
		swarm := perNodeSwarm("joins", 0)
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		key := client.ObjectKeyFromObject(swarm)
		Eventually(nodePodNames(swarm), timeout, interval).Should(Equal([]string{n1.Name}))
		Consistently(nodePodNames(swarm), time.Second, interval).Should(Equal([]string{n1.Name}))

		pod, err := getPod(ctx, ns, NodePodName(swarm, n1.Name))()
		Expect(err).NotTo(HaveOccurred())
		Expect(pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values).
			To(Equal([]string{n1.Name}))
		Expect(pod.Spec.Volumes).To(ContainElement(HaveField("HostPath.Path", testNodeCacheRoot)))
		Expect(pod.Spec.Containers[0].Args).To(ContainElements("--cache-name="+ns+"/joins", "--cache-root=/var/lib/minibit/cache"))

		setNodeReady(ctx, n2.Name, true)                                 // n2 becomes Ready
		patchNodeLabels(ctx, n3.Name, map[string]any{testNodeLabel: ns}) // n3 comes to match
		Eventually(nodePodNames(swarm), timeout, interval).Should(ConsistOf(n1.Name, n2.Name, n3.Name))
		Expect(nodePodNames(swarm)()).NotTo(ContainElement(n4.Name))
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Finalizers", ContainElement(NodeCacheFinalizer)),
			HaveField("Status.Nodes.Wanted", int32(3)),
			HaveField("Status.Nodes.Downloading", int32(3)),
			HaveField("Status.Nodes.Label", "ready.minibit.io/"+ns+".joins"),
			HaveField("Status.Nodes.Path", "/var/lib/minibit/cache/by-name/"+ns+"/joins"),
			haveCondition(minibitv1alpha1.ConditionReady, metav1.ConditionTrue, ReasonNodeCacheEnabled)))

		mi := publishFile(ctx, "joins")
		verify(swarm, mi, n1.Name, 7101)
		mark := NodeMark(swarm)
		Eventually(nodeLabels(ctx, n1.Name), timeout, interval).Should(HaveKeyWithValue(mark, "true"))
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Nodes.Ready", int32(1)),
			HaveField("Status.Nodes.Downloading", int32(2)),
			HaveField("Status.Phase", minibitv1alpha1.PhaseDistributing)))
		Expect(nodeLabels(ctx, n2.Name)()).NotTo(HaveKey(mark))

		verify(swarm, mi, n2.Name, 7102)
		verify(swarm, mi, n3.Name, 7103)
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhaseCompleted),
			HaveField("Status.Nodes.Ready", int32(3)),
			HaveField("Status.Completed", int32(3)),
			HaveField("Status.ProgressPercent", int32(100))))
		for _, n := range []string{n2.Name, n3.Name} {
			Eventually(nodeLabels(ctx, n), timeout, interval).Should(HaveKeyWithValue(mark, "true"))
		}

		n5 := node("n5", true, true) // a node that matches after the swarm Completed joins it
		Eventually(nodePodNames(swarm), timeout, interval).Should(ContainElement(n5.Name))
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhaseDistributing), HaveField("Status.Nodes.Wanted", int32(4))))
		verify(swarm, mi, n5.Name, 7105)
		Eventually(getSwarm(ctx, key), timeout, interval).Should(HaveField("Status.Phase", minibitv1alpha1.PhaseCompleted))
	})

	DescribeTable("a node that goes leaves: its pod is deleted and its mark removed",
		func(name string, leave func(n *corev1.Node)) {
			n1, n2 := node("n1", true, true), node("n2", true, true)
			swarm := perNodeSwarm(name, 0)
			Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
			Eventually(nodePodNames(swarm), timeout, interval).Should(ConsistOf(n1.Name, n2.Name))
			mi := publishFile(ctx, name)
			verify(swarm, mi, n1.Name, 7201)
			verify(swarm, mi, n2.Name, 7202)
			Eventually(nodeLabels(ctx, n2.Name), timeout, interval).Should(HaveKey(NodeMark(swarm)))
			Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(
				HaveField("Status.Phase", minibitv1alpha1.PhaseCompleted))

			leave(n2)
			Eventually(nodePodNames(swarm), timeout, interval).Should(Equal([]string{n1.Name}))
			Eventually(func() (map[string]string, error) {
				labels, err := nodeLabels(ctx, n2.Name)()
				if apierrors.IsNotFound(err) {
					return nil, nil
				}
				return labels, err
			}, timeout, interval).ShouldNot(HaveKey(NodeMark(swarm)))
			Expect(nodeLabels(ctx, n1.Name)()).To(HaveKeyWithValue(NodeMark(swarm), "true"))
			Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(And(
				HaveField("Status.Nodes.Wanted", int32(1)), HaveField("Status.Nodes.Ready", int32(1)),
				HaveField("Status.Phase", minibitv1alpha1.PhaseCompleted)))
		},
		Entry("deleted", "leave-deleted", func(n *corev1.Node) { Expect(k8sClient.Delete(ctx, n)).To(Succeed()) }),
		Entry("no longer matching its selector", "leave-unlabelled", func(n *corev1.Node) {
			patchNodeLabels(ctx, n.Name, map[string]any{testNodeLabel: nil})
		}),
		Entry("tainted NoExecute", "leave-tainted", func(n *corev1.Node) {
			Eventually(func() error {
				var cur corev1.Node
				if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(n), &cur); err != nil {
					return err
				}
				cur.Spec.Taints = []corev1.Taint{{Key: "drain", Effect: corev1.TaintEffectNoExecute}}
				return k8sClient.Update(ctx, &cur)
			}, timeout, interval).Should(Succeed())
		}),
	)

	It("downloads in waves of parallelism nodes: one pod at a time until its copy is verified", func() {
		nodes := []*corev1.Node{node("n1", true, true), node("n2", true, true), node("n3", true, true)}
		swarm := perNodeSwarm("waves", 1)
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		key := client.ObjectKeyFromObject(swarm)
		mi := publishFile(ctx, "waves")
		for i, n := range nodes {
			Eventually(nodePodNames(swarm), timeout, interval).Should(HaveLen(i + 1))
			Consistently(nodePodNames(swarm), time.Second, interval).Should(HaveLen(i + 1))
			Expect(nodePodNames(swarm)()).To(ContainElement(n.Name)) // in name order
			Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
				HaveField("Status.Nodes.Downloading", int32(1)), HaveField("Status.Nodes.Ready", int32(i)),
				HaveField("Status.Nodes.Wanted", int32(3))))
			verify(swarm, mi, n.Name, 7300+i)
		}
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhaseCompleted), HaveField("Status.Nodes.Ready", int32(3))))
	})

	It("applies the failure policy per node: a node that fails too often is left out, the swarm goes on", func() {
		n1, n2 := node("n1", true, true), node("n2", true, true)
		swarm := perNodeSwarm("node-failures", 0)
		swarm.Spec.FailurePolicy.MaxPeerFailures = ptrInt32(1)
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		key := client.ObjectKeyFromObject(swarm)
		Eventually(nodePodNames(swarm), timeout, interval).Should(ConsistOf(n1.Name, n2.Name))
		failing := NodePodName(swarm, n1.Name)

		first, err := getPod(ctx, ns, failing)()
		Expect(err).NotTo(HaveOccurred())
		setPodPhase(ctx, ns, failing, corev1.PodFailed)
		Eventually(getPod(ctx, ns, failing), timeout, interval).Should(And(
			HaveField("UID", Not(Equal(first.UID))), HaveField("Labels", HaveKeyWithValue(LabelAttempt, "1"))))
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Nodes.Failed", int32(0)), HaveField("Status.Failed", int32(1))))

		setPodPhase(ctx, ns, failing, corev1.PodFailed) // the second failure: more than 1 tolerated
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Nodes.Failed", int32(1)),
			HaveField("Status.Nodes.Wanted", int32(1)),
			HaveField("Status.Phase", Not(Equal(minibitv1alpha1.PhaseFailed))),
			haveCondition(minibitv1alpha1.ConditionDegraded, metav1.ConditionTrue, ReasonNodesFailed)))
		Consistently(getPod(ctx, ns, failing), time.Second, interval).Should(HaveField("Status.Phase", corev1.PodFailed)) // kept for its logs

		verify(swarm, publishFile(ctx, "node-failures"), n2.Name, 7401)
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhaseCompleted), HaveField("Status.Nodes.Ready", int32(1))))
		Expect(nodeLabels(ctx, n1.Name)()).NotTo(HaveKey(NodeMark(swarm)))
	})

	It("on deletion removes the marks, releases each copy with a clean-up pod on its node, then lets the Swarm go", func() {
		n1, n2 := node("n1", true, true), node("n2", true, true)
		swarm := perNodeSwarm("cleans", 0)
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		key := client.ObjectKeyFromObject(swarm)
		Eventually(nodePodNames(swarm), timeout, interval).Should(ConsistOf(n1.Name, n2.Name))
		mi := publishFile(ctx, "cleans")
		verify(swarm, mi, n1.Name, 7501)
		verify(swarm, mi, n2.Name, 7502)
		Eventually(getSwarm(ctx, key), timeout, interval).Should(HaveField("Status.Phase", minibitv1alpha1.PhaseCompleted))
		Eventually(nodeLabels(ctx, n2.Name), timeout, interval).Should(HaveKey(NodeMark(swarm)))

		Expect(k8sClient.Delete(ctx, swarm)).To(Succeed())
		for _, n := range []string{n1.Name, n2.Name} {
			Eventually(nodeLabels(ctx, n), timeout, interval).ShouldNot(HaveKey(NodeMark(swarm)))
			Eventually(getPod(ctx, ns, CleanPodName(swarm, n)), timeout, interval).Should(And(
				HaveField("Spec.Containers", HaveExactElements(HaveField("Args", Equal([]string{
					"cache-release", "--cache-root=/var/lib/minibit/cache", "--cache-name=" + ns + "/cleans"})))),
				HaveField("Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms",
					HaveExactElements(HaveField("MatchFields", HaveExactElements(HaveField("Values", Equal([]string{n}))))))))
		}
		Eventually(nodePodNames(swarm), timeout, interval).Should(BeEmpty())

		setPodPhase(ctx, ns, CleanPodName(swarm, n1.Name), corev1.PodSucceeded)
		Consistently(getSwarm(ctx, key), time.Second, interval).Should(HaveField("Finalizers", ContainElement(NodeCacheFinalizer)))
		Expect(k8sClient.Delete(ctx, n2)).To(Succeed()) // a node gone needs no clean-up
		Eventually(func() error { _, err := getSwarm(ctx, key)(); return err }, timeout, interval).Should(Satisfy(apierrors.IsNotFound))
		for _, n := range []string{n1.Name, n2.Name} {
			Eventually(func() error { _, err := getPod(ctx, ns, CleanPodName(swarm, n))(); return err }, timeout, interval).
				Should(Satisfy(apierrors.IsNotFound))
		}
	})

	DescribeTable("the API server refuses placements that make no sense",
		func(mutate func(*minibitv1alpha1.Swarm), message string) {
			swarm := perNodeSwarm("invalid-placement", 0)
			mutate(swarm)
			err := k8sClient.Create(ctx, swarm)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("a node selector with PerPod", func(s *minibitv1alpha1.Swarm) { s.Spec.Placement.Mode = minibitv1alpha1.PlacementPerPod },
			"placement.nodeSelector, affinity, tolerations and parallelism apply only with placement.mode PerNode"),
		Entry("storage with PerNode", func(s *minibitv1alpha1.Swarm) { s.Spec.Storage.SizeLimit = ptrQuantity("1Gi") },
			"storage must be empty with placement.mode PerNode"),
		Entry("a retention of 0", func(s *minibitv1alpha1.Swarm) { s.Spec.Placement.Retention = &metav1.Duration{} },
			"placement.retention must be more than 0s"),
		Entry("a negative parallelism", func(s *minibitv1alpha1.Swarm) { s.Spec.Placement.Parallelism = -1 }, "spec.placement.parallelism"),
		Entry("no peers with PerPod", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Placement, s.Spec.Peers = nil, 0
		}, "peers is required (1 to 1000) unless placement.mode is PerNode"),
	)

	It("takes a PerNode Swarm without peers", func() {
		swarm := perNodeSwarm("no-peers", 0)
		swarm.Spec.Peers = 0
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
	})

	It("refuses to change placement.mode while the swarm runs", func() {
		swarm := swarmtest.MakeSwarm("mode-change", ns).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		swarm.Spec.Placement = &minibitv1alpha1.Placement{Mode: minibitv1alpha1.PlacementPerNode}
		err := k8sClient.Update(ctx, swarm)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("placement.mode cannot change while the swarm runs"))
	})
})

// setNodeReady writes a node's Ready condition, as its kubelet would, and its not-ready taint
// (which the API server's admission adds to every new node), as the node lifecycle controller
// would.
func setNodeReady(ctx context.Context, name string, ready bool) {
	Eventually(func() error {
		var n corev1.Node
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &n); err != nil {
			return err
		}
		n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == corev1.TaintNodeNotReady })
		if !ready {
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule})
		}
		return k8sClient.Update(ctx, &n)
	}, timeout, interval).Should(Succeed())
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	Eventually(func() error {
		var n corev1.Node
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &n); err != nil {
			return err
		}
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status, Reason: "Test",
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
		return k8sClient.Status().Update(ctx, &n)
	}, timeout, interval).Should(Succeed())
}

// patchNodeLabels merge-patches a node's labels (nil removes one).
func patchNodeLabels(ctx context.Context, name string, labels map[string]any) {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	patch := fmt.Sprintf(`{"metadata":{"labels":%s}}`, mustMarshal(labels))
	Expect(k8sClient.Patch(ctx, n, client.RawPatch("application/merge-patch+json", []byte(patch)))).To(Succeed())
}

// nodeLabels reads a node's labels, for Eventually.
func nodeLabels(ctx context.Context, name string) func() (map[string]string, error) {
	return func() (map[string]string, error) {
		var n corev1.Node
		err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &n)
		return n.Labels, err
	}
}

func ptrInt32(n int32) *int32 { return &n }

func mustMarshal(v any) string {
	data, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return string(data)
}
