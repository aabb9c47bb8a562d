//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/swarmtest"
)

// Labels the operator puts on every child of a Swarm (controllers/names.go).
const (
	labelSwarm = "swarm.minibit.io/swarm"
	labelRole  = "swarm.minibit.io/role"
	rolePeer   = "peer"
)

// newNamespace creates a namespace for one spec; when the spec ends it dumps the namespace's
// pods, events and logs if the spec failed, then deletes it.
func newNamespace(ctx context.Context, prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-" + prefix + "-"}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		failed := CurrentSpecReport().Failed()
		if failed {
			dumpNamespace(ctx, ns.Name)
			GinkgoWriter.Println(operatorDiagnostics(ctx))
		}
		if failed && keepOnFailure() {
			GinkgoWriter.Printf("E2E_KEEP: namespace %s kept\n", ns.Name)
			return
		}
		Expect(client.IgnoreNotFound(k8s.Delete(ctx, ns))).To(Succeed())
	}, NodeTimeout(5*time.Minute))
	return ns.Name
}

// makeSwarm starts a Swarm to create (swarmtest.MakeSwarm) of one seeder, its pods using the
// image under test (IMG) with imagePullPolicy Never (no registry on the cluster).
func makeSwarm(name, ns string) *swarmtest.SwarmWrapper {
	return swarmtest.MakeSwarm(name, ns).Seeders(1).Image(image(), corev1.PullNever)
}

// getSwarm reads a Swarm's current state.
func getSwarm(ctx context.Context, sw *minibitv1alpha1.Swarm) *minibitv1alpha1.Swarm {
	var cur minibitv1alpha1.Swarm
	Expect(k8s.Get(ctx, client.ObjectKeyFromObject(sw), &cur)).To(Succeed())
	return &cur
}

// waitForPhase polls the Swarm until its phase is want, printing progress as it changes; it fails
// at once if the swarm reaches another final phase.
func waitForPhase(ctx context.Context, sw *minibitv1alpha1.Swarm, want minibitv1alpha1.SwarmPhase, timeout time.Duration) *minibitv1alpha1.Swarm {
	var cur minibitv1alpha1.Swarm
	last := ""
	Eventually(func(g Gomega) minibitv1alpha1.SwarmPhase {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(sw), &cur)).To(Succeed())
		st := cur.Status
		line := fmt.Sprintf("%s: phase=%s progress=%d%% completed=%d/%d running=%d failed=%d restarts=%d",
			sw.Name, st.Phase, st.ProgressPercent, st.Completed, st.Desired, st.Running, st.Failed, st.Restarts)
		if line != last {
			GinkgoWriter.Printf("%s %s\n", time.Now().Format("15:04:05"), line)
			last = line
		}
		final := st.Phase == minibitv1alpha1.PhaseCompleted || st.Phase == minibitv1alpha1.PhaseFailed
		if final && st.Phase != want {
			StopTrying(fmt.Sprintf("swarm %s ended %s, want %s", sw.Name, st.Phase, want)).Now()
		}
		return st.Phase
	}).WithContext(ctx).WithTimeout(timeout).WithPolling(time.Second).Should(Equal(want),
		func() string { return swarmYAML(&cur) })
	return &cur
}

// waitForProgress waits until the swarm distributes and its peers hold at least percent of all
// pieces (but have not all finished), the moment to hurt it.
func waitForProgress(ctx context.Context, sw *minibitv1alpha1.Swarm, percent int32, timeout time.Duration) {
	Eventually(func(g Gomega) {
		cur := getSwarm(ctx, sw)
		if p := cur.Status.Phase; p == minibitv1alpha1.PhaseCompleted || p == minibitv1alpha1.PhaseFailed {
			StopTrying(fmt.Sprintf("swarm %s ended %s before it could be hurt mid-distribution", sw.Name, p)).Now()
		}
		g.Expect(cur.Status.Phase).To(Equal(minibitv1alpha1.PhaseDistributing))
		g.Expect(cur.Status.ProgressPercent).To(BeNumerically(">=", percent))
	}).WithContext(ctx).WithTimeout(timeout).WithPolling(500 * time.Millisecond).Should(Succeed())
}

// rolePods lists a swarm's pods of a role that are not being deleted.
func rolePods(ctx context.Context, sw *minibitv1alpha1.Swarm, role string) []corev1.Pod {
	var list corev1.PodList
	Expect(k8s.List(ctx, &list, client.InNamespace(sw.Namespace),
		client.MatchingLabels{labelSwarm: sw.Name, labelRole: role})).To(Succeed())
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// deletePod deletes a pod now (no grace period: a crash, not a polite shutdown) and returns its UID.
func deletePod(ctx context.Context, ns, name string) string {
	var p corev1.Pod
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &p)).To(Succeed())
	Expect(k8s.Delete(ctx, &p, client.GracePeriodSeconds(0), client.Preconditions{UID: &p.UID})).To(Succeed())
	GinkgoWriter.Printf("%s deleted pod %s (uid %s)\n", time.Now().Format("15:04:05"), name, p.UID)
	return string(p.UID)
}

// podLogs returns a container's whole log (the previous instance's with previous).
func podLogs(ctx context.Context, ns, pod string, previous bool) (string, error) {
	req := clientset.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Previous: previous})
	rc, err := req.Stream(ctx)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	return string(b), err
}

// expectedSHA256 is the SHA-256 of the content a generated source makes, computed here from the
// generator, independently of the pods.
func expectedSHA256(size string, seed int64) string {
	expectedMu.Lock()
	defer expectedMu.Unlock()
	key := fmt.Sprintf("%s/%d", size, seed)
	if v, ok := expectedCache[key]; ok {
		return v
	}
	h := sha256.New()
	q := resource.MustParse(size)
	_, err := io.Copy(h, generate.NewReader(uint64(seed), q.Value()))
	Expect(err).NotTo(HaveOccurred())
	v := hex.EncodeToString(h.Sum(nil))
	expectedCache[key] = v
	return v
}

var (
	expectedMu    sync.Mutex
	expectedCache = map[string]string{}
)

// condition returns a condition of the Swarm's status, or nil.
func condition(sw *minibitv1alpha1.Swarm, t string) *metav1.Condition {
	return meta.FindStatusCondition(sw.Status.Conditions, t)
}

func swarmYAML(sw *minibitv1alpha1.Swarm) string {
	short := sw.DeepCopy()
	short.ManagedFields = nil
	b, _ := yaml.Marshal(short)
	return "swarm now:\n" + string(b)
}

// dumpNamespace writes a failed spec's evidence: pods, events in time order, every
// container's log (and its previous instance's), the Swarms.
func dumpNamespace(ctx context.Context, ns string) {
	var out bytes.Buffer
	fmt.Fprintf(&out, "\n===== namespace %s =====\n", ns)
	var swarms minibitv1alpha1.SwarmList
	if err := k8s.List(ctx, &swarms, client.InNamespace(ns)); err == nil {
		for i := range swarms.Items {
			out.WriteString(swarmYAML(&swarms.Items[i]))
		}
	}
	var pods corev1.PodList
	if err := k8s.List(ctx, &pods, client.InNamespace(ns)); err != nil {
		fmt.Fprintf(&out, "listing pods: %v\n", err)
	}
	out.WriteString("--- pods\n")
	for _, p := range pods.Items {
		restarts := int32(0)
		for _, c := range p.Status.ContainerStatuses {
			restarts += c.RestartCount
		}
		fmt.Fprintf(&out, "%-40s %-10s ip=%-12s restarts=%d uid=%s deleting=%v\n",
			p.Name, p.Status.Phase, p.Status.PodIP, restarts, p.UID, p.DeletionTimestamp != nil)
	}
	out.WriteString(eventsText(ctx, ns))
	for _, p := range pods.Items {
		for _, c := range p.Spec.Containers {
			for _, prev := range []bool{false, true} {
				logs, err := podLogs(ctx, ns, p.Name, prev)
				if err != nil || (prev && logs == "") {
					continue
				}
				fmt.Fprintf(&out, "--- logs %s/%s previous=%v (last 150 lines)\n%s\n", p.Name, c.Name, prev, tail(logs, 150))
			}
		}
	}
	GinkgoWriter.Print(out.String())
}

// eventsText lists a namespace's events, oldest first.
func eventsText(ctx context.Context, ns string) string {
	var evs corev1.EventList
	if err := k8s.List(ctx, &evs, client.InNamespace(ns)); err != nil {
		return fmt.Sprintf("listing events: %v\n", err)
	}
	sort.Slice(evs.Items, func(i, j int) bool { return eventTime(evs.Items[i]).Before(eventTime(evs.Items[j])) })
	var b strings.Builder
	fmt.Fprintf(&b, "--- events in %s\n", ns)
	for _, e := range evs.Items {
		fmt.Fprintf(&b, "%s %-8s %-22s %s/%s: %s\n", eventTime(e).Format("15:04:05"), e.Type, e.Reason,
			e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message)
	}
	return b.String()
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

// operatorDiagnostics is the manager's pods, events and recent logs.
func operatorDiagnostics(ctx context.Context) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n===== operator %s =====\n", operator)
	var pods corev1.PodList
	if err := k8s.List(ctx, &pods, client.InNamespace(operator.Namespace)); err != nil {
		return b.String() + err.Error()
	}
	for _, p := range pods.Items {
		fmt.Fprintf(&b, "pod %s phase=%s\n", p.Name, p.Status.Phase)
		for _, c := range p.Status.ContainerStatuses {
			fmt.Fprintf(&b, "  container %s ready=%v restarts=%d state=%+v\n", c.Name, c.Ready, c.RestartCount, c.State)
		}
		if logs, err := podLogs(ctx, operator.Namespace, p.Name, false); err == nil {
			fmt.Fprintf(&b, "--- logs %s (last 200 lines)\n%s\n", p.Name, tail(logs, 200))
		}
	}
	b.WriteString(eventsText(ctx, operator.Namespace))
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// isInvalid says whether err is the API server refusing an object as invalid.
func isInvalid(err error) bool { return apierrors.IsInvalid(err) }
