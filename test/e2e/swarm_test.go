//go:build e2e

package e2e

import (
	"context"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// Timeouts sized for a busy 2-core machine; E2E_TIMEOUT_SCALE stretches them.
var (
	completeTimeout = scaled(8 * time.Minute)
	hurtTimeout     = scaled(4 * time.Minute)
	goneTimeout     = scaled(3 * time.Minute)
	specTimeout     = scaled(15 * time.Minute)
)

var _ = Describe("Swarm", func() {
	It("distributes a 64 MiB file from 1 seeder to 6 peers over TCP, every copy verified", func(ctx SpecContext) {
		ns := newNamespace(ctx, "basic")
		sw := makeSwarm("basic", ns).Peers(6).Generate("64Mi", 7).Obj()
		Expect(k8s.Create(ctx, sw)).To(Succeed())
		want := expectedSHA256("64Mi", 7)

		done := waitForPhase(ctx, sw, minibitv1alpha1.PhaseCompleted, completeTimeout)

		By("the status counters, progress and conditions")
		st := done.Status
		Expect(st.ObservedGeneration).To(Equal(done.Generation))
		Expect(st.Desired).To(BeEquivalentTo(6))
		Expect(st.Completed).To(BeEquivalentTo(6))
		Expect(st.ProgressPercent).To(BeEquivalentTo(100))
		Expect(st.Pieces).To(BeEquivalentTo(64 << 20 / (256 << 10)))
		Expect(st.InfoHash).To(MatchRegexp(`^[0-9a-f]{40}$`))
		Expect(st.Failed).To(BeZero())
		Expect(st.Restarts).To(BeZero())
		Expect(st.Disruptions).To(BeEmpty())
		Expect(st.StartTime).NotTo(BeNil())
		Expect(st.CompletionTime).NotTo(BeNil())
		Expect(st.CompletionTime.Time).NotTo(BeTemporally("<", st.StartTime.Time))
		expectCondition(done, minibitv1alpha1.ConditionComplete, metav1.ConditionTrue)
		expectCondition(done, minibitv1alpha1.ConditionProgressing, metav1.ConditionFalse)
		expectCondition(done, minibitv1alpha1.ConditionDegraded, metav1.ConditionFalse)
		expectCondition(done, minibitv1alpha1.ConditionFailed, metav1.ConditionFalse)

		By("every peer pod holds a copy with the source's SHA-256")
		Expect(expectEveryPeerVerified(ctx, done, want)).To(Equal(6))

		By("peers served pieces to each other, not only the seeder to everyone")
		expectPeerToPeer(ctx, done, 2)
		expectLogsShowSeveralSources(ctx, done, 2)
	}, SpecTimeout(specTimeout))

	Context("when a third of the peers and the tracker are deleted while it distributes", func() {
		It("with Replace, still reaches Completed with every copy verified and the restarts counted", func(ctx SpecContext) {
			ns := newNamespace(ctx, "replace")
			sw := makeSwarm("replace", ns).Peers(8).Generate("64Mi", 11).
				DownloadRate("2Mi").AnnounceInterval(5 * time.Second).PeerAction(minibitv1alpha1.FailureActionReplace).Obj()
			Expect(k8s.Create(ctx, sw)).To(Succeed())
			want := expectedSHA256("64Mi", 11)

			waitForProgress(ctx, sw, 10, hurtTimeout)
			killed := hurt(ctx, sw, 3)

			done := waitForPhase(ctx, sw, minibitv1alpha1.PhaseCompleted, completeTimeout)
			st := done.Status
			Expect(st.Completed).To(BeEquivalentTo(8))
			Expect(st.Restarts).To(BeNumerically(">=", 4), "3 peers and the tracker were replaced")
			Expect(st.Failed).To(BeEquivalentTo(3), "each deleted peer counts once")
			Expect(st.TrackerFailures).To(BeEquivalentTo(1))
			Expect(st.Disruptions).To(BeEmpty(), "every deleted pod was replaced")
			expectCondition(done, minibitv1alpha1.ConditionComplete, metav1.ConditionTrue)

			By("the deleted pods were replaced by new ones, and every copy is verified")
			for _, p := range rolePods(ctx, done, rolePeer) {
				Expect(killed).NotTo(ContainElement(string(p.UID)), "pod %s is still the deleted one", p.Name)
			}
			Expect(expectEveryPeerVerified(ctx, done, want)).To(Equal(8))
		}, SpecTimeout(specTimeout))

		It("with Ignore, the surviving peers complete and the swarm reports the loss", func(ctx SpecContext) {
			ns := newNamespace(ctx, "ignore")
			sw := makeSwarm("ignore", ns).Peers(8).Generate("64Mi", 13).
				DownloadRate("2Mi").AnnounceInterval(5 * time.Second).PeerAction(minibitv1alpha1.FailureActionIgnore).Obj()
			Expect(k8s.Create(ctx, sw)).To(Succeed())
			want := expectedSHA256("64Mi", 13)

			waitForProgress(ctx, sw, 10, hurtTimeout)
			hurt(ctx, sw, 3)

			done := waitForPhase(ctx, sw, minibitv1alpha1.PhaseCompleted, completeTimeout)
			st := done.Status
			Expect(st.Completed).To(BeEquivalentTo(5), "the 5 surviving peers")
			Expect(st.Failed).To(BeEquivalentTo(3))
			Expect(st.Disruptions).To(HaveLen(3))
			for _, d := range st.Disruptions {
				Expect(d.Reason).To(Equal(minibitv1alpha1.DisruptionDeleted))
				Expect(d.Pod).To(HavePrefix(sw.Name + "-peer-"))
			}
			expectCondition(done, minibitv1alpha1.ConditionDegraded, metav1.ConditionTrue)
			expectCondition(done, minibitv1alpha1.ConditionComplete, metav1.ConditionTrue)

			By("the deleted peers stay gone and the survivors hold verified copies")
			Expect(rolePods(ctx, done, rolePeer)).To(HaveLen(5))
			Expect(expectEveryPeerVerified(ctx, done, want)).To(Equal(5))
		}, SpecTimeout(specTimeout))
	})

	It("runs the built-in chaos drill and still completes", func(ctx SpecContext) {
		ns := newNamespace(ctx, "drill")
		sw := makeSwarm("drill", ns).Peers(6).Generate("64Mi", 17).
			DownloadRate("2Mi").AnnounceInterval(5*time.Second).Chaos(8*time.Second, 2).Obj()
		Expect(k8s.Create(ctx, sw)).To(Succeed())
		want := expectedSHA256("64Mi", 17)

		done := waitForPhase(ctx, sw, minibitv1alpha1.PhaseCompleted, completeTimeout)
		st := done.Status
		Expect(st.Chaos).NotTo(BeNil())
		Expect(st.Chaos.Deleted).To(BeEquivalentTo(2))
		Expect(st.Failed).To(BeZero(), "the drill's deletions are not failures")
		Expect(st.Restarts).To(BeNumerically(">=", 2))
		Expect(st.Completed).To(BeEquivalentTo(6))
		Expect(expectEveryPeerVerified(ctx, done, want)).To(Equal(6))
	}, SpecTimeout(specTimeout))

	It("removes every pod and service it owned when the Swarm is deleted", func(ctx SpecContext) {
		ns := newNamespace(ctx, "delete")
		sw := makeSwarm("gone", ns).Peers(2).Generate("8Mi", 3).Obj()
		Expect(k8s.Create(ctx, sw)).To(Succeed())
		owned := client.MatchingLabels{labelSwarm: sw.Name}

		By("waiting for the tracker, the seeder and both peers to run")
		Eventually(func(g Gomega) {
			var pods corev1.PodList
			g.Expect(k8s.List(ctx, &pods, client.InNamespace(ns), owned)).To(Succeed())
			running := 0
			for _, p := range pods.Items {
				if p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodSucceeded {
					running++
				}
			}
			g.Expect(running).To(Equal(4))
			var svcs corev1.ServiceList
			g.Expect(k8s.List(ctx, &svcs, client.InNamespace(ns), owned)).To(Succeed())
			g.Expect(svcs.Items).NotTo(BeEmpty())
		}).WithContext(ctx).WithTimeout(completeTimeout).WithPolling(time.Second).Should(Succeed())

		Expect(k8s.Delete(ctx, sw)).To(Succeed())
		Eventually(func(g Gomega) {
			var pods corev1.PodList
			g.Expect(k8s.List(ctx, &pods, client.InNamespace(ns), owned)).To(Succeed())
			g.Expect(pods.Items).To(BeEmpty(), "pods left")
			var svcs corev1.ServiceList
			g.Expect(k8s.List(ctx, &svcs, client.InNamespace(ns), owned)).To(Succeed())
			g.Expect(svcs.Items).To(BeEmpty(), "services left")
			err := k8s.Get(ctx, client.ObjectKeyFromObject(sw), &minibitv1alpha1.Swarm{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the Swarm still exists: %v", err)
		}).WithContext(ctx).WithTimeout(goneTimeout).WithPolling(time.Second).Should(Succeed())
	}, SpecTimeout(specTimeout))

	DescribeTable("refuses an invalid Swarm with the CRD's message",
		func(ctx SpecContext, mutate func(*minibitv1alpha1.Swarm), message string) {
			ns := newNamespace(ctx, "invalid")
			sw := makeSwarm("bad", ns).Peers(2).Generate("1Mi", 1).Obj()
			mutate(sw)
			err := k8s.Create(ctx, sw)
			Expect(err).To(HaveOccurred())
			Expect(isInvalid(err)).To(BeTrue(), "want 422 Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(message))
			Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(sw), &minibitv1alpha1.Swarm{}))).To(BeTrue())
		},
		Entry("no peers", func(s *minibitv1alpha1.Swarm) { s.Spec.Peers = 0 },
			"peers is required (1 to 1000) unless placement.mode is PerNode"),
		Entry("two sources", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source.HTTP = &minibitv1alpha1.HTTPSource{URL: "http://example.invalid/f"}
		}, "source must set exactly one of generate, http, oci, s3 or persistentVolumeClaim"),
		Entry("a piece size that is not a power of two", func(s *minibitv1alpha1.Swarm) {
			q := intstr.FromString("100Ki")
			s.Spec.PieceSize = &q
		}, "pieceSize must be a power of two from 16Ki to 16Mi"),
		Entry("a name too long for its pods' names", func(s *minibitv1alpha1.Swarm) {
			s.Name = strings.Repeat("n", 51)
		}, "a Swarm's name must be at most 50 characters"),
	)
})

// hurt deletes peers peer pods (spread over the indexes) and the tracker pod, at once and without
// grace, and returns the deleted pods' UIDs.
func hurt(ctx context.Context, sw *minibitv1alpha1.Swarm, peers int) []string {
	By("deleting peer pods and the tracker pod while the swarm distributes")
	pods := rolePods(ctx, sw, rolePeer)
	Expect(len(pods)).To(BeNumerically(">", peers))
	var uids []string
	step := len(pods) / peers
	for i := 0; i < peers; i++ {
		uids = append(uids, deletePod(ctx, sw.Namespace, pods[i*step].Name))
	}
	uids = append(uids, deletePod(ctx, sw.Namespace, sw.Name+"-tracker"))
	return uids
}

// expectCondition checks one condition's status.
func expectCondition(sw *minibitv1alpha1.Swarm, t string, want metav1.ConditionStatus) {
	c := condition(sw, t)
	Expect(c).NotTo(BeNil(), "condition %s missing", t)
	Expect(c.Status).To(Equal(want), "condition %s: %s", t, c.Message)
}
