package controllers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/swarmtest"
)

var _ = Describe("Swarm controller", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	It("creates the tracker, its Service, the seeder and the peers, owned by the Swarm", func() {
		swarm := swarmtest.MakeSwarm("children", ns).Peers(3).UploadRate("4Mi").DownloadRate("8Mi").Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())

		names := []string{"children-tracker", "children-seeder-0", "children-peer-0", "children-peer-1", "children-peer-2"}
		var pods corev1.PodList
		Eventually(func() ([]string, error) {
			err := k8sClient.List(ctx, &pods, client.InNamespace(ns))
			got := []string{}
			for _, p := range pods.Items {
				got = append(got, p.Name)
			}
			return got, err
		}, timeout, interval).Should(ConsistOf(names))
		for _, pod := range pods.Items {
			owner := metav1.GetControllerOf(&pod)
			Expect(owner).NotTo(BeNil(), pod.Name)
			Expect(owner.UID).To(Equal(swarm.UID), pod.Name)
			Expect(pod.Spec.RestartPolicy).To(Equal(corev1.RestartPolicyNever))
			Expect(*pod.Spec.SecurityContext.RunAsNonRoot).To(BeTrue())
			Expect(*pod.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem).To(BeTrue())
			Expect(pod.Spec.Containers[0].Image).To(Equal(DefaultImage))
			Expect(pod.Spec.Containers[0].ReadinessProbe).NotTo(BeNil())
			Expect(pod.Labels).To(HaveKeyWithValue(LabelSwarm, "children"))
		}
		peer, err := getPod(ctx, ns, "children-peer-1")()
		Expect(err).NotTo(HaveOccurred())
		Expect(peer.Spec.Containers[0].Args).To(ContainElements(
			"get", "--dir=/data", "--tracker=http://children-tracker."+ns+".svc:8080", "--swarm=children",
			"--name=$(POD_NAME)", "--upload-rate=4194304", "--download-rate=8388608"))
		seeder, err := getPod(ctx, ns, "children-seeder-0")()
		Expect(err).NotTo(HaveOccurred())
		Expect(seeder.Spec.Containers[0].Args).To(ContainElements("seed", "--file=/data/children.bin", "--piece-size=256KiB",
			"--generate-size=1MiB", "--generate-seed=7"))

		var svc corev1.Service
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "children-tracker"}, &svc)).To(Succeed())
		Expect(metav1.GetControllerOf(&svc).UID).To(Equal(swarm.UID))
		Expect(svc.Spec.Selector).To(Equal(map[string]string{LabelSwarm: "children", LabelRole: "tracker"}))

		Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhasePending),
			HaveField("Status.Desired", int32(3)),
			HaveField("Status.Launched.Peers", int32(3)),
			HaveField("Status.ObservedGeneration", swarm.Generation),
			haveCondition(minibitv1alpha1.ConditionProgressing, metav1.ConditionTrue, ReasonWaitingForSeeder),
		))
	})

	It("moves through Distributing to Completed as the tracker reports the peers' progress", func() {
		swarm := swarmtest.MakeSwarm("progress", ns).Peers(3).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		key := client.ObjectKeyFromObject(swarm)
		mi := publishFile(ctx, "progress")
		length := mi.Info.Length
		for i := range 3 {
			setPodIP(ctx, ns, fmt.Sprintf("progress-peer-%d", i), "127.0.0.1")
		}
		for i := range 3 {
			announce(ctx, mi, fmt.Sprintf("progress-peer-%d", i), 7000+i, length, "started")
		}
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhaseDistributing),
			HaveField("Status.InfoHash", fmt.Sprintf("%x", mi.InfoHashV1())),
			HaveField("Status.Pieces", int32(4)),
			HaveField("Status.ProgressPercent", int32(0)),
			haveCondition(minibitv1alpha1.ConditionTrackerReady, metav1.ConditionTrue, ReasonTrackerAnswering),
		))

		announce(ctx, mi, "progress-peer-0", 7000, 0, "completed")
		announce(ctx, mi, "progress-peer-1", 7001, length/2, "")
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Completed", int32(1)),
			HaveField("Status.ProgressPercent", int32(50)), // (1 + 0.5 + 0) / 3
			HaveField("Status.SlowestPeers", HaveExactElements(
				minibitv1alpha1.PeerProgress{Name: "progress-peer-2", ProgressPercent: 0},
				minibitv1alpha1.PeerProgress{Name: "progress-peer-1", ProgressPercent: 50},
				minibitv1alpha1.PeerProgress{Name: "progress-peer-0", ProgressPercent: 100},
			)),
			haveCondition(minibitv1alpha1.ConditionComplete, metav1.ConditionFalse, ReasonPeersDownloading),
		))

		announce(ctx, mi, "progress-peer-1", 7001, 0, "completed")
		announce(ctx, mi, "progress-peer-2", 7002, 0, "completed")
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhaseCompleted),
			HaveField("Status.Completed", int32(3)),
			HaveField("Status.ProgressPercent", int32(100)),
			HaveField("Status.CompletionTime", Not(BeNil())),
			haveCondition(minibitv1alpha1.ConditionComplete, metav1.ConditionTrue, ReasonAllPeersComplete),
			haveCondition(minibitv1alpha1.ConditionProgressing, metav1.ConditionFalse, ReasonAllPeersComplete),
			haveCondition(minibitv1alpha1.ConditionFailed, metav1.ConditionFalse, ReasonWithinLimits),
		))
	})

	It("completes when every peer exits done (completion mode Exit), then its TTL deletes it", func() {
		swarm := swarmtest.MakeSwarm("exits", ns).Peers(2).ExitOnComplete().TTL(1).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		Eventually(getPod(ctx, ns, "exits-peer-1"), timeout, interval).Should(HaveField("Spec.Containers", HaveEach(
			HaveField("Args", ContainElement("--exit-on-complete")))))
		setPodPhase(ctx, ns, "exits-peer-0", corev1.PodSucceeded)
		setPodPhase(ctx, ns, "exits-peer-1", corev1.PodSucceeded)
		Eventually(func() error {
			_, err := getSwarm(ctx, client.ObjectKeyFromObject(swarm))()
			return err
		}, timeout, interval).Should(Satisfy(apierrors.IsNotFound))
	})

	DescribeTable("a deleted peer pod under each failure action",
		func(action minibitv1alpha1.FailureAction, replaced bool) {
			name := "deleted-" + strings.ToLower(string(action))
			swarm := swarmtest.MakeSwarm(name, ns).Peers(2).PeerAction(action).Backoff(500 * time.Millisecond).Obj()
			Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
			victim := name + "-peer-1"
			old, err := func() (*corev1.Pod, error) {
				var p *corev1.Pod
				var err error
				Eventually(func() error { p, err = getPod(ctx, ns, victim)(); return err }, timeout, interval).Should(Succeed())
				return p, err
			}()
			Expect(err).NotTo(HaveOccurred())
			Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(HaveField("Status.Launched.Peers", int32(2)))
			Expect(k8sClient.Delete(ctx, old)).To(Succeed())

			if replaced {
				Eventually(getPod(ctx, ns, victim), timeout, interval).Should(And(
					HaveField("UID", Not(Equal(old.UID))),
					HaveField("Labels", HaveKeyWithValue(LabelAttempt, "1"))))
				Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(And(
					HaveField("Status.Failed", int32(1)),
					HaveField("Status.Restarts", int32(1)),
					HaveField("Status.Disruptions", BeEmpty()),
					haveCondition(minibitv1alpha1.ConditionDegraded, metav1.ConditionFalse, ReasonAsExpected)))
				return
			}
			Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(And(
				HaveField("Status.Failed", int32(1)),
				HaveField("Status.Restarts", int32(0)),
				HaveField("Status.Disruptions", HaveExactElements(HaveField("Pod", victim))),
				haveCondition(minibitv1alpha1.ConditionDegraded, metav1.ConditionTrue, ReasonPodsDisrupted)))
			Consistently(func() bool {
				_, err := getPod(ctx, ns, victim)()
				return apierrors.IsNotFound(err)
			}, 2*time.Second, interval).Should(BeTrue())
		},
		Entry("Replace recreates it and counts it", minibitv1alpha1.FailureActionReplace, true),
		Entry("Ignore leaves it gone and counts it", minibitv1alpha1.FailureActionIgnore, false),
	)

	It("fails the swarm when more peers fail than the failure policy tolerates", func() {
		swarm := swarmtest.MakeSwarm("fails", ns).Peers(3).MaxPeerFailures(1).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		Eventually(getPod(ctx, ns, "fails-peer-2"), timeout, interval).Should(Not(BeNil()))
		setPodPhase(ctx, ns, "fails-peer-0", corev1.PodFailed)
		setPodPhase(ctx, ns, "fails-peer-1", corev1.PodFailed)
		Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhaseFailed),
			HaveField("Status.Failed", int32(2)),
			HaveField("Status.CompletionTime", Not(BeNil())),
			haveCondition(minibitv1alpha1.ConditionFailed, metav1.ConditionTrue, ReasonPeerFailureLimit),
			haveCondition(minibitv1alpha1.ConditionProgressing, metav1.ConditionFalse, ReasonPeerFailureLimit)))
	})

	It("runs the chaos drill on schedule and stops at its count, without counting failures", func() {
		swarm := swarmtest.MakeSwarm("chaos", ns).Peers(3).Chaos(time.Second, 2).Backoff(200 * time.Millisecond).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		key := client.ObjectKeyFromObject(swarm)
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Chaos.Deleted", int32(2)),
			HaveField("Status.Restarts", int32(2)),
			HaveField("Status.Failed", int32(0))))
		Consistently(getSwarm(ctx, key), 3*time.Second, interval).Should(HaveField("Status.Chaos.Deleted", int32(2)))
		var pods corev1.PodList
		Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{LabelRole: "peer"})).To(Succeed())
		Expect(pods.Items).To(HaveLen(3))
	})

	It("reports a tracker that does not answer as a condition, not an error", func() {
		swarm := swarmtest.MakeSwarm("unreachable-tracker", ns).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhasePending),
			HaveField("Status.Launched.Peers", int32(3)),
			haveCondition(minibitv1alpha1.ConditionTrackerReady, metav1.ConditionFalse, ReasonTrackerUnreachable),
			haveCondition(minibitv1alpha1.ConditionDegraded, metav1.ConditionTrue, ReasonTrackerUnreachable)))
	})

	It("scales peers up and down through spec.peers", func() {
		swarm := swarmtest.MakeSwarm("scales", ns).Peers(2).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		peers := func() ([]string, error) {
			var pods corev1.PodList
			err := k8sClient.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{LabelRole: "peer"})
			var names []string
			for _, p := range pods.Items {
				names = append(names, p.Name)
			}
			return names, err
		}
		Eventually(peers, timeout, interval).Should(HaveLen(2))
		patch := client.MergeFrom(swarm.DeepCopy())
		swarm.Spec.Peers = 4
		Expect(k8sClient.Patch(ctx, swarm, patch)).To(Succeed())
		Eventually(peers, timeout, interval).Should(ConsistOf("scales-peer-0", "scales-peer-1", "scales-peer-2", "scales-peer-3"))
		patch = client.MergeFrom(swarm.DeepCopy())
		swarm.Spec.Peers = 1
		Expect(k8sClient.Patch(ctx, swarm, patch)).To(Succeed())
		Eventually(peers, timeout, interval).Should(ConsistOf("scales-peer-0"))
		Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(And(
			HaveField("Status.Desired", int32(1)), HaveField("Status.Failed", int32(0))))
	})

	DescribeTable("the API server refuses invalid Swarms with a message a user understands",
		func(mutate func(*minibitv1alpha1.Swarm), message string) {
			swarm := swarmtest.MakeSwarm("invalid", ns).Obj()
			mutate(swarm)
			err := k8sClient.Create(ctx, swarm)
			Expect(err).To(HaveOccurred())
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), err.Error())
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("no source", func(s *minibitv1alpha1.Swarm) { s.Spec.Source = minibitv1alpha1.Source{} },
			"source must set exactly one of generate, http, oci, s3 or persistentVolumeClaim"),
		Entry("two sources", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source.HTTP = &minibitv1alpha1.HTTPSource{URL: "https://example.com/f"}
		}, "source must set exactly one of generate, http, oci, s3 or persistentVolumeClaim"),
		Entry("no peers", func(s *minibitv1alpha1.Swarm) { s.Spec.Peers = 0 }, "peers is required (1 to 1000) unless placement.mode is PerNode"),
		Entry("too many peers", func(s *minibitv1alpha1.Swarm) { s.Spec.Peers = 1001 }, "spec.peers"),
		Entry("a piece size that is not a power of two", func(s *minibitv1alpha1.Swarm) {
			s.Spec.PieceSize = ptrPieceSize("100Ki")
		}, "pieceSize must be a power of two from 16Ki to 16Mi"),
		Entry("a piece size below 16Ki", func(s *minibitv1alpha1.Swarm) { s.Spec.PieceSize = ptrPieceSize("8Ki") },
			"pieceSize must be a power of two from 16Ki to 16Mi"),
		Entry("a URL that is not http", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{URL: "ftp://example.com/f"}}
		}, "http.url must start with http:// or https://"),
		Entry("a path that climbs out of the volume", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{PersistentVolumeClaim: &minibitv1alpha1.PVCSource{ClaimName: "c", Path: "a/../../etc"}}
		}, "persistentVolumeClaim.path must be relative and must not contain '..'"),
		Entry("a name too long for its children", func(s *minibitv1alpha1.Swarm) { s.Name = strings.Repeat("n", 51) },
			"a Swarm's name must be at most 50 characters"),
		Entry("a chaos interval below 1s", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Chaos = &minibitv1alpha1.Chaos{Interval: &metav1.Duration{Duration: time.Millisecond}, Count: 1}
		}, "chaos.interval must be at least 1s"),
	)

	DescribeTable("the API server refuses changes to fields that cannot change mid-swarm",
		func(mutate func(*minibitv1alpha1.Swarm), message string) {
			swarm := swarmtest.MakeSwarm("immutable", ns).PieceSize("64Ki").Obj()
			Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
			mutate(swarm)
			err := k8sClient.Update(ctx, swarm)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("the source", func(s *minibitv1alpha1.Swarm) { s.Spec.Source.Generate.Seed = 8 },
			"source cannot change while the swarm runs"),
		Entry("the piece size", func(s *minibitv1alpha1.Swarm) { s.Spec.PieceSize = ptrPieceSize("128Ki") },
			"pieceSize cannot change while the swarm runs"),
		Entry("the storage", func(s *minibitv1alpha1.Swarm) { s.Spec.Storage.SizeLimit = ptrQuantity("1Gi") },
			"storage cannot change while the swarm runs"),
	)

	It("accepts the samples of config/samples, also those applied by hand", func() {
		dir := filepath.Join("..", "config", "samples")
		var kustomization struct {
			Resources []string `json:"resources"`
		}
		data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(yaml.Unmarshal(data, &kustomization)).To(Succeed())
		Expect(kustomization.Resources).NotTo(BeEmpty())
		byHand := []string{"swarm_v1alpha1_directory_oci.yaml", "swarm_v1alpha1_directory_s3.yaml", "swarm_v1alpha1_directory_http_urls.yaml"}
		for _, file := range append(kustomization.Resources, byHand...) {
			data, err := os.ReadFile(filepath.Join(dir, file))
			Expect(err).NotTo(HaveOccurred())
			var swarm minibitv1alpha1.Swarm
			Expect(yaml.UnmarshalStrict(data, &swarm)).To(Succeed(), file)
			swarm.Namespace = ns
			Expect(k8sClient.Create(ctx, &swarm, client.DryRunAll)).To(Succeed(), file)
		}
	})
})

func ptrQuantity(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

func ptrPieceSize(s string) *intstr.IntOrString {
	v := intstr.FromString(s)
	return &v
}
