//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// The node cache root the e2e operator is deployed with (config/manager/manager.yaml).
const nodeCacheRoot = "/var/lib/minibit/cache"

var _ = Describe("PerNode placement", func() {
	It("puts a verified copy on every node, marks it, serves a consumer, reuses it, and cleans up", func(ctx SpecContext) {
		const size, seed = "32Mi", 13
		want := expectedSHA256(size, seed)
		ns := newNamespace(ctx, "pernode")
		sw := perNodeSwarm("weights", ns, size, seed)
		start := time.Now()
		Expect(k8s.Create(ctx, sw)).To(Succeed())
		done := waitForPhase(ctx, sw, minibitv1alpha1.PhaseCompleted, completeTimeout)
		firstCopy := time.Since(start)

		By("every Ready node holds a verified copy and carries the label")
		nodes := readyNodes(ctx)
		st := done.Status.Nodes
		Expect(st).NotTo(BeNil())
		Expect(st.Wanted).To(BeEquivalentTo(len(nodes)))
		Expect(st.Ready).To(BeEquivalentTo(len(nodes)))
		Expect(st.Label).To(Equal("ready.minibit.io/" + ns + ".weights"))
		Expect(st.Path).To(Equal(nodeCacheRoot + "/by-name/" + ns + "/weights"))
		// The operator labels a node once the status that counts it is written: in the same
		// pass or the next, a moment after the phase.
		for _, n := range nodes {
			Eventually(func() string { return nodeLabel(ctx, n, st.Label) }).WithContext(ctx).
				WithTimeout(scaled(30*time.Second)).WithPolling(time.Second).Should(Equal("true"), "node %s", n)
		}

		By("a consumer Deployment on the marked nodes reads the file under the stable path")
		consumer := consumerDeployment(ns, "consumer", st.Label, st.Path, "weights.bin", want)
		Expect(k8s.Create(ctx, consumer)).To(Succeed())
		Eventually(func(g Gomega) {
			logs := deploymentLogs(ctx, g, ns, "consumer")
			g.Expect(logs).To(ContainSubstring("sha256 " + want))
		}, completeTimeout, 2*time.Second).Should(Succeed())

		By("a second Swarm of the same content finishes without downloading")
		ns2 := newNamespace(ctx, "pernode-again")
		again := perNodeSwarm("weights", ns2, size, seed)
		start = time.Now()
		Expect(k8s.Create(ctx, again)).To(Succeed())
		waitForPhase(ctx, again, minibitv1alpha1.PhaseCompleted, completeTimeout)
		sameContent := time.Since(start)
		for _, pod := range nodePods(ctx, again) {
			logs, err := podLogs(ctx, ns2, pod.Name, false)
			Expect(err).NotTo(HaveOccurred())
			Expect(logs).To(ContainSubstring("Cache hit: verified copy, not re-hashed"), "pod %s", pod.Name)
		}

		By("deleting the first Swarm removes its label and its name in the cache, not the second's")
		Expect(k8s.Delete(ctx, done)).To(Succeed())
		start = time.Now()
		Eventually(func() bool {
			err := k8s.Get(ctx, client.ObjectKeyFromObject(done), &minibitv1alpha1.Swarm{})
			return apierrors.IsNotFound(err)
		}, goneTimeout, time.Second).Should(BeTrue(), "the Swarm's finalizer should finish")
		cleanUp := time.Since(start)
		for _, n := range nodes {
			Expect(nodeLabel(ctx, n, st.Label)).To(BeEmpty(), "node %s", n)
			Expect(nodeLabel(ctx, n, "ready.minibit.io/"+ns2+".weights")).To(Equal("true"), "node %s", n)
		}
		Expect(cacheHasFile(ctx, ns2, "by-name/"+ns+"/weights/weights.bin")).To(BeFalse(), "the first Swarm's name is released")
		Expect(cacheHasFile(ctx, ns2, "by-name/"+ns2+"/weights/weights.bin")).To(BeTrue(), "the second Swarm's name stays")
		Expect(k8s.Delete(ctx, consumer)).To(Succeed())

		By("deleting the second Swarm releases the node too")
		Expect(k8s.Delete(ctx, again)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(again), &minibitv1alpha1.Swarm{}))
		}, goneTimeout, time.Second).Should(BeTrue(), "the second Swarm's finalizer should finish")
		for _, n := range nodes {
			Expect(nodeLabel(ctx, n, "ready.minibit.io/"+ns2+".weights")).To(BeEmpty(), "node %s", n)
		}

		GinkgoWriter.Printf("PerNode timings on %d node(s): first copy %v, same content again %v, clean-up %v\n",
			len(nodes), firstCopy.Round(time.Second), sameContent.Round(time.Second), cleanUp.Round(time.Second))
		AddReportEntry("pernode-timings", fmt.Sprintf("first copy %v, same content again %v, clean-up %v",
			firstCopy.Round(time.Second), sameContent.Round(time.Second), cleanUp.Round(time.Second)))
	}, NodeTimeout(specTimeout))
})

// perNodeSwarm is a PerNode Swarm of a generated file, on every Ready node.
func perNodeSwarm(name, ns, size string, seed int64) *minibitv1alpha1.Swarm {
	sw := makeSwarm(name, ns).Generate(size, seed).Obj()
	sw.Spec.Placement = &minibitv1alpha1.Placement{Mode: minibitv1alpha1.PlacementPerNode}
	sw.Spec.Peers = 0 // the nodes decide: peers may be left out
	return sw
}

// readyNodes names the cluster's Ready nodes.
func readyNodes(ctx context.Context) []string {
	var list corev1.NodeList
	Expect(k8s.List(ctx, &list)).To(Succeed())
	var names []string
	for _, n := range list.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				names = append(names, n.Name)
			}
		}
	}
	Expect(names).NotTo(BeEmpty())
	return names
}

// nodeLabel is a node's label value ("" when absent).
func nodeLabel(ctx context.Context, node, key string) string {
	var n corev1.Node
	Expect(k8s.Get(ctx, client.ObjectKey{Name: node}, &n)).To(Succeed())
	return n.Labels[key]
}

// nodePods are the Swarm's per-node peer pods.
func nodePods(ctx context.Context, sw *minibitv1alpha1.Swarm) []corev1.Pod {
	var pods corev1.PodList
	Expect(k8s.List(ctx, &pods, client.InNamespace(sw.Namespace), client.MatchingLabels{labelSwarm: sw.Name},
		client.HasLabels{"swarm.minibit.io/node"})).To(Succeed())
	Expect(pods.Items).NotTo(BeEmpty())
	return pods.Items
}

// consumerDeployment is the documented consumer: pods only on nodes with the label, the stable
// path mounted read-only, the file's SHA-256 checked (the image's `peer checksum`).
func consumerDeployment(ns, name, label, path, file, sha string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{label: "true"},
					Containers: []corev1.Container{{
						Name: "consumer", Image: image(), ImagePullPolicy: corev1.PullNever,
						Command:      []string{"/peer", "checksum", "--file=/model/" + file, "--sha256=" + sha, "--hold"},
						VolumeMounts: []corev1.VolumeMount{{Name: "model", MountPath: "/model", ReadOnly: true}},
					}},
					Volumes: []corev1.Volume{{Name: "model", VolumeSource: corev1.VolumeSource{
						HostPath: &corev1.HostPathVolumeSource{Path: path, Type: ptr.To(corev1.HostPathDirectory)},
					}}},
				},
			},
		},
	}
}

// deploymentLogs are the logs of the Deployment's pods (by its app label).
func deploymentLogs(ctx context.Context, g Gomega, ns, app string) string {
	var pods corev1.PodList
	g.Expect(k8s.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{"app": app})).To(Succeed())
	var out strings.Builder
	for _, p := range pods.Items {
		logs, err := podLogs(ctx, ns, p.Name, false)
		g.Expect(err).NotTo(HaveOccurred())
		out.WriteString(logs)
	}
	return out.String()
}

// cacheHasFile reports whether a file of the node cache (relative to its root) can be read, from
// a pod that mounts the root read-only and hashes the file (`peer checksum`).
func cacheHasFile(ctx context.Context, ns, rel string) bool {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "cache-check-", Namespace: ns},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "check", Image: image(), ImagePullPolicy: corev1.PullNever,
				Command:      []string{"/peer", "checksum", "--file=/cache/" + rel},
				VolumeMounts: []corev1.VolumeMount{{Name: "cache", MountPath: "/cache", ReadOnly: true}},
			}},
			Volumes: []corev1.Volume{{Name: "cache", VolumeSource: corev1.VolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: nodeCacheRoot, Type: ptr.To(corev1.HostPathDirectory)},
			}}},
		},
	}
	Expect(k8s.Create(ctx, pod)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) { _ = k8s.Delete(ctx, pod) })
	var phase corev1.PodPhase
	Eventually(func() bool {
		var cur corev1.Pod
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(pod), &cur)).To(Succeed())
		phase = cur.Status.Phase
		return phase == corev1.PodSucceeded || phase == corev1.PodFailed
	}, goneTimeout, time.Second).Should(BeTrue(), "the cache check pod should end")
	return phase == corev1.PodSucceeded
}
