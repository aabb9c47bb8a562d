package controllers

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/swarmtest"
)

const testNodeCacheRoot = "/var/lib/minibit/cache"

func perNodeTestSwarm() *minibitv1alpha1.Swarm {
	s := swarmtest.MakeSwarm("weights", "ml").UID("u1").Obj()
	s.Spec.Placement = &minibitv1alpha1.Placement{
		Mode:        minibitv1alpha1.PlacementPerNode,
		Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}},
		Retention:   &metav1.Duration{Duration: 2 * 3600e9},
	}
	s.Spec.Pod.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	return s
}

func TestNodePodNames(t *testing.T) {
	s := perNodeTestSwarm()
	if got := NodePodName(s, "node-1"); !strings.HasPrefix(got, "weights-node-") || len(got) != len("weights-node-")+10 {
		t.Errorf("NodePodName = %q", got)
	}
	if NodePodName(s, "node-1") == NodePodName(s, "node-2") {
		t.Error("two nodes, one pod name")
	}
	if got, want := CleanPodName(s, "node-1"), "weights-clean-"+nodeHash("node-1"); got != want {
		t.Errorf("CleanPodName = %q, want %q", got, want)
	}
	if got := NodeMark(s); got != "ready.minibit.io/ml.weights" {
		t.Errorf("NodeMark = %q", got)
	}
	if got := NodeCachePath(testNodeCacheRoot, s); got != "/var/lib/minibit/cache/by-name/ml/weights" {
		t.Errorf("NodeCachePath = %q", got)
	}
	long := perNodeTestSwarm()
	long.Namespace, long.Name = strings.Repeat("n", 40), strings.Repeat("s", 30)
	if nodeMarkFits(long) || !nodeMarkFits(s) {
		t.Error("nodeMarkFits: a 71-character name part fits, or a short one does not")
	}
	if got := nodeLabelValue(strings.Repeat("a", 100)); got != nodeHash(strings.Repeat("a", 100)) {
		t.Errorf("a node name too long for a label value: %q", got)
	}
}

func TestBuildNodePod(t *testing.T) {
	s := perNodeTestSwarm()
	pod := buildNodePod(s, PodDefaults{}, testNodeCacheRoot, "node-1", 2)
	if pod.Name != NodePodName(s, "node-1") || pod.Labels[LabelNode] != "node-1" || pod.Annotations[AnnotationNode] != "node-1" ||
		pod.Labels[LabelRole] != "peer" || pod.Labels[LabelSwarm] != "weights" || pod.Labels[LabelAttempt] != "2" {
		t.Errorf("name and labels: %s %v %v", pod.Name, pod.Labels, pod.Annotations)
	}
	if owner := metav1.GetControllerOf(pod); owner == nil || owner.UID != "u1" {
		t.Errorf("owner: %v", owner)
	}
	wantAffinity := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{
			Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"node-1"}}}}}}}}
	if diff := cmp.Diff(wantAffinity, pod.Spec.Affinity); diff != "" {
		t.Errorf("affinity (-want +got):\n%s", diff)
	}
	if pod.Spec.NodeSelector != nil {
		t.Errorf("spec.pod.nodeSelector on a node pod: %v", pod.Spec.NodeSelector)
	}
	if diff := cmp.Diff(s.Spec.Placement.Tolerations, pod.Spec.Tolerations); diff != "" {
		t.Errorf("tolerations (-want +got):\n%s", diff)
	}
	wantVolumes := []corev1.Volume{pod.Spec.Volumes[0], {Name: "cache", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
		Path: testNodeCacheRoot, Type: ptr.To(corev1.HostPathDirectoryOrCreate)}}}}
	if diff := cmp.Diff(wantVolumes, pod.Spec.Volumes); diff != "" || pod.Spec.Volumes[0].EmptyDir == nil {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}
	peer := pod.Spec.Containers[0]
	for _, arg := range []string{"get", "--cache-root=/var/lib/minibit/cache", "--cache-name=ml/weights", "--cache-retention=2h0m0s",
		"--tracker=http://weights-tracker.ml.svc:8080", "--name=$(POD_NAME)"} {
		if !contains(peer.Args, arg) {
			t.Errorf("peer args %q lack %q", peer.Args, arg)
		}
	}
	for _, arg := range peer.Args {
		if strings.HasPrefix(arg, "--dir") || arg == "--exit-on-complete" {
			t.Errorf("peer arg %q on a node pod", arg)
		}
	}
	if diff := cmp.Diff([]corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}, {Name: "cache", MountPath: nodeCacheMount}}, peer.VolumeMounts); diff != "" {
		t.Errorf("peer mounts (-want +got):\n%s", diff)
	}
	checkNonRoot(t, pod, peer)
	checkInitContainer(t, pod)
}

func checkNonRoot(t *testing.T, pod *corev1.Pod, c corev1.Container) {
	t.Helper()
	psc, sc := pod.Spec.SecurityContext, c.SecurityContext
	if !*psc.RunAsNonRoot || *psc.RunAsUser != 65532 || *psc.RunAsGroup != 65532 {
		t.Errorf("pod security context: %+v", psc)
	}
	if !*sc.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation ||
		!cmp.Equal(sc.Capabilities, &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}) {
		t.Errorf("%s security context: %+v", c.Name, sc)
	}
}

func checkInitContainer(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if len(pod.Spec.InitContainers) != 1 {
		t.Fatalf("init containers: %d", len(pod.Spec.InitContainers))
	}
	init := pod.Spec.InitContainers[0]
	if init.Name != "cache-permissions" || !cmp.Equal(init.Args, []string{"cache-prepare", "--cache-root=/var/lib/minibit/cache", "--uid=65532"}) {
		t.Errorf("init container: %s %q", init.Name, init.Args)
	}
	sc := init.SecurityContext
	if *sc.RunAsUser != 0 || *sc.RunAsNonRoot || *sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem ||
		!cmp.Equal(sc.Capabilities, &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"CHOWN", "DAC_OVERRIDE"}}) {
		t.Errorf("init security context: %+v %+v", sc, sc.Capabilities)
	}
	if !cmp.Equal(init.VolumeMounts, []corev1.VolumeMount{{Name: "cache", MountPath: nodeCacheMount}}) {
		t.Errorf("init mounts: %v", init.VolumeMounts)
	}
}

func TestBuildCleanPod(t *testing.T) {
	s := perNodeTestSwarm()
	pod := buildCleanPod(s, PodDefaults{}, testNodeCacheRoot, "node-1")
	if pod.Name != CleanPodName(s, "node-1") || pod.Labels[LabelRole] != "clean" || pod.Annotations[AnnotationNode] != "node-1" {
		t.Errorf("name and labels: %s %v", pod.Name, pod.Labels)
	}
	if len(pod.OwnerReferences) != 0 {
		t.Errorf("a clean-up pod with owners: %v", pod.OwnerReferences)
	}
	c := pod.Spec.Containers[0]
	if !cmp.Equal(c.Args, []string{"cache-release", "--cache-root=/var/lib/minibit/cache", "--cache-name=ml/weights"}) {
		t.Errorf("args %q", c.Args)
	}
	if pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0] != "node-1" {
		t.Error("not pinned to its node")
	}
	if pod.Spec.Volumes[1].HostPath.Path != testNodeCacheRoot {
		t.Errorf("volumes %v", pod.Spec.Volumes)
	}
	checkNonRoot(t, pod, c)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
