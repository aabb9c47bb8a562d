//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// peerPort is the port peer and seeder pods accept BitTorrent connections on (controllers/names.go).
const peerPort = 6881

// probeLabel marks the spec's probe pods; the insiders also carry the swarm's label.
const probeLabel = "e2e.minibit.io/probe"

// A probe is a pod that opens one TCP connection after another to a target, with the image's
// own /peer binary: `peer seed --url http://target/...` downloads the file to seed and logs each
// failed attempt ("Download failed ... err=..."). Go's HTTP client says "dial tcp ADDR: ..." only
// when the connection itself failed (refused, timed out, unreachable); any other error (EOF, a
// malformed answer, 404) came from a listener that accepted the connection.
var (
	downloadFailed = regexp.MustCompile(`msg="Download failed".* err="?(.*)`)
	dialFailed     = regexp.MustCompile(`dial tcp [0-9.:]+: (connect: connection refused|i/o timeout|connect: no route to host|connect: network is unreachable)`)
)

// probeOutcome is what a probe pod's attempts saw.
type probeOutcome struct {
	attempts    int
	refused     int    // attempts whose connection failed
	lastRefused bool   // whether the last attempt's connection failed
	lastErr     string // the last attempt's error
}

func (o probeOutcome) String() string {
	return fmt.Sprintf("%d attempts, %d refused, last error: %s", o.attempts, o.refused, o.lastErr)
}

var _ = Describe("Isolation", func() {
	It("refuses a pod outside the swarm at the peers' and the tracker's ports while the swarm completes", func(ctx SpecContext) {
		ns := newNamespace(ctx, "isolation")
		sw := makeSwarm("iso", ns).Peers(3).Generate("32Mi", 23).DownloadRate("1Mi").Obj()
		Expect(k8s.Create(ctx, sw)).To(Succeed())
		want := expectedSHA256("32Mi", 23)

		By("the operator's NetworkPolicy <swarm>-isolation, owned by the Swarm, selects the swarm's pods")
		policy := expectIsolationPolicy(ctx, sw)
		GinkgoWriter.Printf("policy %s: ingress rules %d, pod selector %v\n",
			policy.Name, len(policy.Spec.Ingress), policy.Spec.PodSelector.MatchLabels)

		By("waiting for the tracker, the seeder and the peers to run")
		targets := probeTargets(ctx, sw)

		By("probing every target from a pod outside the swarm and from a pod inside it, while it distributes")
		// 32 MiB at 1 MiB/s a peer takes 32 s at least: the probes start well before the end.
		Expect(getSwarm(ctx, sw).Status.Phase).NotTo(Equal(minibitv1alpha1.PhaseCompleted))
		outsiders := map[string]string{}
		insiders := map[string]string{}
		for name, addr := range targets {
			outsiders[name] = startProbe(ctx, sw, "out-"+name, addr, false)
			insiders[name] = startProbe(ctx, sw, "in-"+name, addr, true)
		}

		By("the swarm completes with every copy verified, the operator reading its tracker")
		done := waitForPhase(ctx, sw, minibitv1alpha1.PhaseCompleted, completeTimeout)
		Expect(done.Status.Completed).To(BeEquivalentTo(3))
		Expect(expectEveryPeerVerified(ctx, done, want)).To(Equal(3))

		By("every connection from outside was refused; the same connections from inside were accepted")
		for name, addr := range targets {
			out := probeResult(ctx, ns, outsiders[name])
			GinkgoWriter.Printf("%-12s %-20s outside: %s\n", name, addr, out)
			Expect(out.refused).To(Equal(out.attempts), "a pod outside the swarm reached %s (%s): %s", name, addr, out)
			in := insiderResult(ctx, sw, name, addr, insiders[name])
			GinkgoWriter.Printf("%-12s %-20s inside:  %s\n", name, addr, in)
			Expect(in.lastRefused).To(BeFalse(), "a pod of the swarm could not reach %s (%s): %s", name, addr, in)
		}

		By("the tracker's API still answers through the API server (the dashboard's way in)")
		ts, err := trackerSwarm(ctx, done)
		Expect(err).NotTo(HaveOccurred())
		Expect(ts.Peers).NotTo(BeEmpty())
	}, SpecTimeout(specTimeout))
})

// expectIsolationPolicy waits for the Swarm's NetworkPolicy and checks that the Swarm controls
// it, that it filters ingress only, and that it selects the swarm's pods.
func expectIsolationPolicy(ctx context.Context, sw *minibitv1alpha1.Swarm) *networkingv1.NetworkPolicy {
	var np networkingv1.NetworkPolicy
	key := client.ObjectKey{Namespace: sw.Namespace, Name: sw.Name + "-isolation"}
	Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, key, &np)).To(Succeed())
	}).WithContext(ctx).WithTimeout(scaled(time.Minute)).WithPolling(time.Second).Should(Succeed(),
		"NetworkPolicy %s not created", key)
	owner := metav1.GetControllerOf(&np)
	Expect(owner).NotTo(BeNil(), "NetworkPolicy %s has no controller", key)
	Expect(owner.Kind).To(Equal("Swarm"))
	Expect(owner.Name).To(Equal(sw.Name))
	Expect(np.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress), "ingress only")
	return &np
}

// probeTargets waits until the tracker, the seeder and the peers run, and returns the addresses
// to probe: a peer's and the seeder's BitTorrent port, the tracker pod's port and its Service.
func probeTargets(ctx context.Context, sw *minibitv1alpha1.Swarm) map[string]string {
	targets := map[string]string{}
	Eventually(func(g Gomega) {
		var tracker corev1.Pod
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: sw.Namespace, Name: sw.Name + "-tracker"}, &tracker)).To(Succeed())
		g.Expect(podRunningWithIP(&tracker)).To(BeTrue(), "tracker not running")
		var svc corev1.Service
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: sw.Namespace, Name: sw.Name + "-tracker"}, &svc)).To(Succeed())
		g.Expect(svc.Spec.ClusterIP).NotTo(BeEmpty())
		seeders := rolePods(ctx, sw, "seeder")
		peers := rolePods(ctx, sw, rolePeer)
		g.Expect(seeders).NotTo(BeEmpty())
		g.Expect(peers).NotTo(BeEmpty())
		g.Expect(podRunningWithIP(&seeders[0])).To(BeTrue(), "seeder not running")
		g.Expect(podRunningWithIP(&peers[0])).To(BeTrue(), "peer not running")
		targets["peer"] = net.JoinHostPort(peers[0].Status.PodIP, strconv.Itoa(peerPort))
		targets["seeder"] = net.JoinHostPort(seeders[0].Status.PodIP, strconv.Itoa(peerPort))
		targets["tracker-pod"] = net.JoinHostPort(tracker.Status.PodIP, strconv.Itoa(trackerPort))
		targets["tracker-svc"] = net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(trackerPort))
	}).WithContext(ctx).WithTimeout(completeTimeout).WithPolling(time.Second).Should(Succeed())
	return targets
}

func podRunningWithIP(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && p.Status.PodIP != ""
}

// startProbe creates a pod in the swarm's namespace that connects to addr up to three times
// (the /peer binary's download retries; a 404 ends them at once); inside gives it the swarm's label, as the swarm's own pods
// carry. It returns the pod's name.
func startProbe(ctx context.Context, sw *minibitv1alpha1.Swarm, name, addr string, inside bool) string {
	labels := map[string]string{probeLabel: name}
	if inside {
		labels[labelSwarm] = sw.Name
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: sw.Namespace, Name: "probe-" + name, Labels: labels},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: new(int64),
			AutomountServiceAccountToken:  new(bool),
			Containers: []corev1.Container{{
				Name:            "probe",
				Image:           image(),
				ImagePullPolicy: corev1.PullNever,
				Command:         []string{"/peer"},
				Args: []string{"seed", "--file=/tmp/probe/file", "--url=http://" + addr + "/e2e-probe",
					"--timeout=3s", "--tracker=http://127.0.0.1:9", "--swarm=e2e-probe",
					"--listen=127.0.0.1:0", "--metrics-addr="},
			}},
		},
	}
	Expect(k8s.Create(ctx, pod)).To(Succeed())
	return pod.Name
}

// probeResult waits until the probe pod has made its attempts (it then exits) and reads what
// each saw from its log.
func probeResult(ctx context.Context, ns, pod string) probeOutcome {
	var out probeOutcome
	Eventually(func(g Gomega) {
		var p corev1.Pod
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: pod}, &p)).To(Succeed())
		g.Expect(p.Status.Phase).To(BeElementOf(corev1.PodSucceeded, corev1.PodFailed), "probe %s still running", pod)
		logs, err := podLogs(ctx, ns, pod, false)
		g.Expect(err).NotTo(HaveOccurred())
		out = parseProbeLog(logs)
		g.Expect(out.attempts).To(BeNumerically(">", 0), "probe %s logged no attempt:\n%s", pod, tail(logs, 20))
	}).WithContext(ctx).WithTimeout(scaled(2 * time.Minute)).WithPolling(time.Second).Should(Succeed())
	return out
}

// insiderRounds bounds the fresh insider probes made for one target.
const insiderRounds = 3

// insiderResult reads an insider probe's outcome. The agent lets a new pod in only once it has
// synced the pod's address, so a probe's first attempts may race it (seen: the first, within a
// second of the container's start); while the last attempt was refused, a fresh probe tries
// again, up to insiderRounds probes.
func insiderResult(ctx context.Context, sw *minibitv1alpha1.Swarm, name, addr, pod string) probeOutcome {
	out := probeResult(ctx, sw.Namespace, pod)
	for round := 1; round < insiderRounds && out.lastRefused; round++ {
		GinkgoWriter.Printf("%-12s %-20s inside, probe %d: %s; probing again\n", name, addr, round, out)
		pod = startProbe(ctx, sw, fmt.Sprintf("in-%s-%d", name, round), addr, true)
		out = probeResult(ctx, sw.Namespace, pod)
	}
	return out
}

// parseProbeLog counts a probe's attempts and those whose connection failed.
func parseProbeLog(logs string) probeOutcome {
	var out probeOutcome
	for _, line := range strings.Split(logs, "\n") {
		m := downloadFailed.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		out.attempts++
		out.lastErr = m[1]
		out.lastRefused = dialFailed.MatchString(m[1])
		if out.lastRefused {
			out.refused++
		}
	}
	return out
}
