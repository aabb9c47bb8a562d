package controllers

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/swarmtest"
	"github.com/minibit-io/minibit/internal/tracker"
	trackerclient "github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// Issue 10: one hostile pod must not change what a swarm delivers, stall it, or fake its
// completion. These specs play the attacker against the controller and a real API server.
var _ = Describe("Swarm trust", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	It("takes a peer's progress only from announces from the pod's own IP", func() {
		swarm := swarmtest.MakeSwarm("forged", ns).Peers(1).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		key := client.ObjectKeyFromObject(swarm)
		setPodIP(ctx, ns, "forged-peer-0", "127.0.0.3")
		mi := publishFile(ctx, "forged")

		// The attacker, from another address, names the victim's pod and has nothing left.
		announceFrom(ctx, "127.0.0.2", sha1.Sum([]byte("forger")), mi, "forged-peer-0", 7100, 0, "completed")
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhaseDistributing),
			HaveField("Status.InfoHash", fmt.Sprintf("%x", mi.InfoHashV1()))))
		Consistently(getSwarm(ctx, key), 2*time.Second, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhaseDistributing),
			HaveField("Status.Completed", int32(0)),
			HaveField("Status.SlowestPeers", HaveExactElements(minibitv1alpha1.PeerProgress{Name: "forged-peer-0", ProgressPercent: 0}))))

		// The pod itself, from its IP, is believed.
		announceFrom(ctx, "127.0.0.3", sha1.Sum([]byte("forged-peer-0")), mi, "forged-peer-0", 7101, 0, "completed")
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhaseCompleted),
			HaveField("Status.Completed", int32(1))))
	})

	It("pins status.infoHash: no status writer can change or remove it", func() {
		swarm := swarmtest.MakeSwarm("pinned", ns).Peers(1).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		key := client.ObjectKeyFromObject(swarm)
		mi := publishFile(ctx, "pinned")
		pinned := fmt.Sprintf("%x", mi.InfoHashV1())
		Eventually(getSwarm(ctx, key), timeout, interval).Should(HaveField("Status.InfoHash", pinned))
		for _, other := range []string{strings.Repeat("0", 40), ""} {
			Eventually(func() error {
				s, err := getSwarm(ctx, key)()
				if err != nil {
					return err
				}
				s.Status.InfoHash = other
				return k8sClient.Status().Update(ctx, s)
			}, timeout, interval).Should(MatchError(ContainSubstring("status.infoHash is pinned once set")), other)
		}
		Eventually(getPod(ctx, ns, "pinned-peer-0"), timeout, interval).Should(Not(BeNil()))
		// A peer created after the pin refuses any other content.
		patch := client.MergeFrom(swarm.DeepCopy())
		swarm.Spec.Peers = 2
		Expect(k8sClient.Patch(ctx, swarm, patch)).To(Succeed())
		Eventually(getPod(ctx, ns, "pinned-peer-1"), timeout, interval).Should(
			HaveField("Spec.Containers", HaveEach(HaveField("Args", ContainElement("--info-hash="+pinned)))))
	})

	It("keeps the pinned info-hash when a replaced tracker reports other content, and says so", func() {
		swarm := swarmtest.MakeSwarm("swapped", ns).Peers(1).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		key := client.ObjectKeyFromObject(swarm)
		setPodIP(ctx, ns, "swapped-peer-0", "127.0.0.1")
		mi := publishFile(ctx, "swapped")
		pinned := fmt.Sprintf("%x", mi.InfoHashV1())
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.InfoHash", pinned),
			haveCondition(minibitv1alpha1.ConditionContentMismatch, metav1.ConditionFalse, ReasonContentAsPinned)))

		// Another tracker holds an intruder's torrent under the swarm's name; the peer pod's
		// announce there says it is done.
		srv, err := trackertest.New(trackertest.WithConfig(tracker.Config{Interval: time.Second, PeerTTL: time.Minute}))
		Expect(err).NotTo(HaveOccurred())
		defer srv.Close()
		other := publishOther(ctx, srv.URL, "swapped")
		announceTo(ctx, srv.URL, other, "swapped-peer-0")
		env.trackerFor.Store("swapped", srv.URL)
		defer env.trackerFor.Delete("swapped")
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.InfoHash", pinned),
			HaveField("Status.Phase", minibitv1alpha1.PhaseDistributing),
			HaveField("Status.Completed", int32(0)),
			haveCondition(minibitv1alpha1.ConditionContentMismatch, metav1.ConditionTrue, ReasonTrackerOtherContent),
			haveCondition(minibitv1alpha1.ConditionDegraded, metav1.ConditionTrue, ReasonContentMismatch)))
		Eventually(eventReasons(ctx, ns), timeout, interval).Should(ContainElement(ReasonContentMismatchEvent))

		// The seeders' content is back: so is the condition.
		env.trackerFor.Delete("swapped")
		Eventually(getSwarm(ctx, key), timeout, interval).Should(
			haveCondition(minibitv1alpha1.ConditionContentMismatch, metav1.ConditionFalse, ReasonContentAsPinned))
	})

	It("creates the publish Secret once and mounts it only into the tracker and the seeders", func() {
		swarm := swarmtest.MakeSwarm("secret", ns).Peers(2).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		var sec corev1.Secret
		Eventually(func() error {
			return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "secret-publish"}, &sec)
		}, timeout, interval).Should(Succeed())
		Expect(metav1.GetControllerOf(&sec).UID).To(Equal(swarm.UID))
		Expect(sec.Immutable).To(HaveValue(BeTrue()))
		Expect(string(sec.Data["token"])).To(MatchRegexp(`^[0-9a-f]{64}$`))

		for name, holds := range map[string]bool{"secret-tracker": true, "secret-seeder-0": true, "secret-peer-0": false, "secret-peer-1": false} {
			Eventually(getPod(ctx, ns, name), timeout, interval).Should(Not(BeNil()))
			pod, err := getPod(ctx, ns, name)()
			Expect(err).NotTo(HaveOccurred())
			mounts := pod.Spec.Containers[0].VolumeMounts
			if !holds {
				Expect(mounts).NotTo(ContainElement(HaveField("Name", "publish")), name)
				Expect(pod.Spec.Volumes).NotTo(ContainElement(HaveField("Name", "publish")), name)
				continue
			}
			Expect(mounts).To(ContainElement(And(HaveField("MountPath", "/etc/minibit/publish"), HaveField("ReadOnly", true))), name)
			Expect(pod.Spec.Volumes).To(ContainElement(HaveField("VolumeSource.Secret.SecretName", "secret-publish")), name)
		}

		// Later passes never rotate it.
		patch := client.MergeFrom(swarm.DeepCopy())
		swarm.Spec.Peers = 3
		Expect(k8sClient.Patch(ctx, swarm, patch)).To(Succeed())
		Eventually(getPod(ctx, ns, "secret-peer-2"), timeout, interval).Should(Not(BeNil()))
		var again corev1.Secret
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "secret-publish"}, &again)).To(Succeed())
		Expect(again.UID).To(Equal(sec.UID))
		Expect(again.Data).To(Equal(sec.Data))
	})

	DescribeTable("refuses to run on a child's name someone else took",
		func(planted client.Object) {
			planted.SetNamespace(ns)
			Expect(k8sClient.Create(ctx, planted)).To(Succeed())
			swarm := swarmtest.MakeSwarm("planted", ns).Obj()
			Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
			Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(And(
				HaveField("Status.Phase", minibitv1alpha1.PhaseFailed),
				haveCondition(minibitv1alpha1.ConditionFailed, metav1.ConditionTrue, ReasonNameConflict)))
			var pods corev1.PodList
			Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns))).To(Succeed())
			Expect(pods.Items).To(BeEmpty())
		},
		Entry("a publish Secret whose token the attacker knows", &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "planted-publish"},
			Data:       map[string][]byte{"token": []byte("the attacker knows this")},
		}),
		Entry("a NetworkPolicy that lets everyone in", &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "planted-isolation"},
			Spec:       networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{}}},
		}),
	)

	It("isolates the swarm with a NetworkPolicy it owns, keeps it as built, and removes it when turned off", func() {
		swarm := swarmtest.MakeSwarm("isolated", ns).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		key := client.ObjectKey{Namespace: ns, Name: "isolated-isolation"}
		var np networkingv1.NetworkPolicy
		Eventually(func() error { return k8sClient.Get(ctx, key, &np) }, timeout, interval).Should(Succeed())
		Expect(metav1.GetControllerOf(&np).UID).To(Equal(swarm.UID))
		Expect(np.Spec.PolicyTypes).To(Equal([]networkingv1.PolicyType{networkingv1.PolicyTypeIngress}))
		Expect(np.Spec.PodSelector.MatchLabels).To(Equal(map[string]string{LabelSwarm: "isolated"}))
		Expect(np.Spec.Ingress).To(HaveLen(2))
		Expect(np.Spec.Ingress[1].From[0].NamespaceSelector.MatchLabels).To(HaveKeyWithValue("kubernetes.io/metadata.name", testManagerNamespace))

		// The API server's defaults are not mistaken for a change: no write storm.
		rv := np.ResourceVersion
		Consistently(func() (string, error) {
			var cur networkingv1.NetworkPolicy
			err := k8sClient.Get(ctx, key, &cur)
			return cur.ResourceVersion, err
		}, 2*time.Second, interval).Should(Equal(rv))

		// Someone opens it to every pod: its rules are put back.
		np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
		Expect(k8sClient.Update(ctx, &np)).To(Succeed())
		Eventually(func() ([]networkingv1.NetworkPolicyIngressRule, error) {
			var cur networkingv1.NetworkPolicy
			err := k8sClient.Get(ctx, key, &cur)
			return cur.Spec.Ingress, err
		}, timeout, interval).Should(HaveLen(2))

		patch := client.MergeFrom(swarm.DeepCopy())
		swarm.Spec.NetworkPolicy.Enabled = ptr.To(false)
		Expect(k8sClient.Patch(ctx, swarm, patch)).To(Succeed())
		Eventually(func() error { return k8sClient.Get(ctx, key, &networkingv1.NetworkPolicy{}) }, timeout, interval).
			Should(Satisfy(apierrors.IsNotFound))
	})

	It("creates no NetworkPolicy for a swarm created with it turned off", func() {
		swarm := swarmtest.MakeSwarm("open", ns).NetworkPolicy(false).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		Eventually(getPod(ctx, ns, "open-peer-2"), timeout, interval).Should(Not(BeNil()))
		Consistently(func() error {
			return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "open-isolation"}, &networkingv1.NetworkPolicy{})
		}, time.Second, interval).Should(Satisfy(apierrors.IsNotFound))
	})

	DescribeTable("hostPath storage only under the manager's allowed roots",
		func(path string, accepted bool) {
			swarm := swarmtest.MakeSwarm("hostpath", ns).HostPath(path).Obj()
			Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
			if accepted {
				Eventually(getPod(ctx, ns, "hostpath-peer-0"), timeout, interval).Should(
					HaveField("Spec.Volumes", ContainElement(HaveField("VolumeSource.HostPath.Path", path))))
				return
			}
			Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(And(
				HaveField("Status.Phase", minibitv1alpha1.PhaseFailed),
				haveCondition(minibitv1alpha1.ConditionFailed, metav1.ConditionTrue, ReasonStorageRefused)))
			var pods corev1.PodList
			Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns))).To(Succeed())
			Expect(pods.Items).To(BeEmpty())
		},
		Entry("a path under a root is used", testHostPathRoot+"/models", true),
		Entry("a path outside the roots is refused", "/etc", false),
		Entry("a path climbing out of a root is refused", testHostPathRoot+"/../../etc", false),
		Entry("a sibling sharing the root's prefix is refused", testHostPathRoot+"-evil", false),
	)

	DescribeTable("the API server bounds what a Swarm may ask for",
		func(mutate func(*minibitv1alpha1.Swarm), message string) {
			swarm := swarmtest.MakeSwarm("bounded", ns).Obj()
			mutate(swarm)
			err := k8sClient.Create(ctx, swarm, client.DryRunAll)
			if message == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(err).To(HaveOccurred())
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), err.Error())
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("generated content above 1Ti", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source.Generate.Size = ptrQuantity("2Ti").DeepCopy()
			s.Spec.PieceSize = ptrPieceSize("16Mi")
		}, "generate.size must be at most 1Ti"),
		Entry("1Ti of generated content in 16Mi pieces", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source.Generate.Size = ptrQuantity("1Ti").DeepCopy()
			s.Spec.PieceSize = ptrPieceSize("16Mi")
		}, ""),
		Entry("generated content of more pieces than the tracker's old 8 MiB .torrent held", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source.Generate.Size = ptrQuantity("34359738369").DeepCopy() // 32Gi + 1 byte at 256Ki
		}, ""),
		Entry("generated content of exactly 131072 default pieces", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source.Generate.Size = ptrQuantity("32Gi").DeepCopy()
		}, ""),
		Entry("an http download without a bound", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{URL: "https://host/f", MaxBytes: ptrQuantity("0")}}
		}, "http.maxBytes must be a positive whole number"),
		Entry("an http bound above what the tracker's old 8 MiB .torrent held", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{URL: "https://host/f", MaxBytes: ptrQuantity("64Gi")}}
		}, ""),
		Entry("a peerTTL shorter than the announce interval", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Tracker.AnnounceInterval = &metav1.Duration{Duration: time.Minute}
			s.Spec.Tracker.PeerTTL = &metav1.Duration{Duration: 30 * time.Second}
		}, "tracker.peerTTL must be at least tracker.announceInterval"),
		Entry("a peerTTL shorter than the default announce interval", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Tracker.PeerTTL = &metav1.Duration{Duration: 10 * time.Second}
		}, "tracker.peerTTL must be at least tracker.announceInterval"),
		Entry("a storage volume that mounts a Secret", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Storage.Volume = &corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "other"}}
		}, "storage.volume must be an emptyDir, hostPath, persistentVolumeClaim or ephemeral volume"),
	)

	It("defaults the new fields: the NetworkPolicy on, an http bound of 32Gi", func() {
		swarm := swarmtest.MakeSwarm("defaults", ns).HTTP("https://host/f", "").Obj()
		Expect(k8sClient.Create(ctx, swarm, client.DryRunAll)).To(Succeed())
		Expect(swarm.Spec.NetworkPolicy.Enabled).To(HaveValue(BeTrue()))
		Expect(swarm.Spec.Source.HTTP.MaxBytes.String()).To(Equal("32Gi"))
		Expect(fmt.Sprint(settingsOf(swarm).maxBytes)).To(Equal(fmt.Sprint(DefaultHTTPMaxBytes)))
	})
})

// publishOther publishes, to the tracker at url under name, a torrent of other content than
// publishFile's.
func publishOther(ctx context.Context, url, name string) *metainfo.MetaInfo {
	path := filepath.Join(GinkgoT().TempDir(), "other.bin")
	Expect(os.WriteFile(path, bytes.Repeat([]byte("intruder"), 8<<10), 0o600)).To(Succeed())
	mi, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: 16 << 10})
	Expect(err).NotTo(HaveOccurred())
	data, err := mi.Encode()
	Expect(err).NotTo(HaveOccurred())
	Expect(trackerclient.NewClient(url).PublishTorrent(ctx, name, data)).To(Succeed())
	return mi
}

// announceTo announces pod as done to the tracker at url, from 127.0.0.1.
func announceTo(ctx context.Context, url string, mi *metainfo.MetaInfo, pod string) {
	_, err := trackerclient.NewClient(url).Announce(ctx, trackerclient.AnnounceRequest{
		InfoHash: mi.InfoHashV1(), PeerID: sha1.Sum([]byte(pod)), Port: 7200, Downloaded: mi.Info.Length, Event: "completed", Name: pod,
	})
	Expect(err).NotTo(HaveOccurred())
}

// eventReasons lists the reasons of the Events in a namespace, for Eventually.
func eventReasons(ctx context.Context, ns string) func() ([]string, error) {
	return func() ([]string, error) {
		var evs eventsv1.EventList
		err := k8sClient.List(ctx, &evs, client.InNamespace(ns))
		var reasons []string
		for _, e := range evs.Items {
			reasons = append(reasons, e.Reason)
		}
		return reasons, err
	}
}
