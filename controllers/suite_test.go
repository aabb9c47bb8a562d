package controllers

import (
	"context"
	"crypto/sha1"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/metainfo"
	trackerclient "github.com/minibit-io/minibit/internal/tracker/client"
)

const (
	timeout  = 30 * time.Second
	interval = 100 * time.Millisecond
)

var (
	env       *testEnv
	k8sClient client.Client
)

// TestControllers runs the envtest suite: the Swarm controller against a real kube-apiserver and
// etcd, with the engine's tracker in-process. It fails (never skips) without the binaries.
func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Swarm controller (envtest)")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelInfo})))
	var err error
	env, err = startTestEnv(200 * time.Millisecond)
	Expect(err).NotTo(HaveOccurred())
	k8sClient = env.client
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// newNamespace creates a namespace of its own for one spec.
func newNamespace(ctx context.Context) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "swarm-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// getSwarm reads a Swarm, for Eventually.
func getSwarm(ctx context.Context, key types.NamespacedName) func() (*minibitv1alpha1.Swarm, error) {
	return func() (*minibitv1alpha1.Swarm, error) {
		var s minibitv1alpha1.Swarm
		err := k8sClient.Get(ctx, key, &s)
		return &s, err
	}
}

// getPod reads a pod, for Eventually.
func getPod(ctx context.Context, ns, name string) func() (*corev1.Pod, error) {
	return func() (*corev1.Pod, error) {
		var p corev1.Pod
		err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &p)
		return &p, err
	}
}

// setPodPhase writes a pod's phase, as the kubelet would.
func setPodPhase(ctx context.Context, ns, name string, phase corev1.PodPhase) {
	Eventually(func() error {
		pod, err := getPod(ctx, ns, name)()
		if err != nil {
			return err
		}
		pod.Status.Phase = phase
		return k8sClient.Status().Update(ctx, pod)
	}, timeout, interval).Should(Succeed())
}

func haveCondition(kind string, status metav1.ConditionStatus, reason string) OmegaMatcher {
	return WithTransform(func(s *minibitv1alpha1.Swarm) *metav1.Condition {
		return meta.FindStatusCondition(s.Status.Conditions, kind)
	}, And(Not(BeNil()), HaveField("Status", status), HaveField("Reason", reason)))
}

// publishFile makes a small file, publishes its .torrent to the in-process tracker under name
// (as a seeder does) and returns it.
func publishFile(ctx context.Context, name string) *metainfo.MetaInfo {
	path := filepath.Join(GinkgoT().TempDir(), name+".bin")
	Expect(os.WriteFile(path, make([]byte, 64<<10), 0o600)).To(Succeed())
	mi, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: 16 << 10})
	Expect(err).NotTo(HaveOccurred())
	data, err := mi.Encode()
	Expect(err).NotTo(HaveOccurred())
	Expect(env.tracker.Client.PublishTorrent(ctx, name, data)).To(Succeed())
	return mi
}

// announce plays a peer pod whose IP is 127.0.0.1: it announces to the tracker under the pod's
// name with left bytes still to download.
func announce(ctx context.Context, mi *metainfo.MetaInfo, pod string, port int, left int64, event string) {
	announceFrom(ctx, "127.0.0.1", sha1.Sum([]byte(pod)), mi, pod, port, left, event)
}

// announceFrom announces from the loopback address ip (the tracker sees it as the source) with
// peer id id, under the name pod.
func announceFrom(ctx context.Context, ip string, id [20]byte, mi *metainfo.MetaInfo, pod string, port int, left int64, event string) {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c := trackerclient.NewClient(env.tracker.URL)
	c.HTTP = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}}
	_, err := c.Announce(ctx, trackerclient.AnnounceRequest{
		InfoHash: mi.InfoHashV1(), PeerID: id, Port: port,
		Downloaded: mi.Info.Length - left, Left: left, Event: event, Name: pod,
	})
	Expect(err).NotTo(HaveOccurred())
}

// setPodIP writes a pod's IP and phase Running, as the kubelet would once it started.
func setPodIP(ctx context.Context, ns, name, ip string) {
	Eventually(func() error {
		pod, err := getPod(ctx, ns, name)()
		if err != nil {
			return err
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.PodIP, pod.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
		return k8sClient.Status().Update(ctx, pod)
	}, timeout, interval).Should(Succeed())
}
