package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// The node cache, as the node peer pods see it.
const (
	// nodeCacheMount is where a node peer pod mounts the node's cache root.
	nodeCacheMount = "/var/lib/minibit/cache"
	// NodeMarkPrefix is the prefix of the node label that marks a node holding a Swarm's copy.
	NodeMarkPrefix = "ready.minibit.io/"
	// LabelNode is the node of a node peer pod (its name, or its hash when the name is no label
	// value); AnnotationNode always holds the full name.
	LabelNode = "swarm.minibit.io/node"
	// AnnotationNode is the full name of a node peer or clean-up pod's node.
	AnnotationNode = "swarm.minibit.io/node"
	// RoleClean is the role label of the clean-up pods a PerNode Swarm's deletion runs.
	RoleClean Role = "clean"
	// cacheInitContainer prepares the node cache for the non-root peer.
	cacheInitContainer = "cache-permissions"
)

// nodeHash is the first 10 hex digits of the SHA-256 of a node's name: the suffix of its pods.
func nodeHash(node string) string {
	sum := sha256.Sum256([]byte(node))
	return hex.EncodeToString(sum[:])[:10]
}

// NodePodName is the name of a swarm's peer pod on a node: <swarm>-node-<hash>.
func NodePodName(s *minibitv1alpha1.Swarm, node string) string {
	return s.Name + "-node-" + nodeHash(node)
}

// CleanPodName is the name of the pod that releases a swarm's copy on a node: <swarm>-clean-<hash>.
func CleanPodName(s *minibitv1alpha1.Swarm, node string) string {
	return s.Name + "-clean-" + nodeHash(node)
}

// NodeMark is the label a node carries once it holds a verified copy of a swarm:
// ready.minibit.io/<namespace>.<swarm>. Its name part must fit 63 characters.
func NodeMark(s *minibitv1alpha1.Swarm) string {
	return NodeMarkPrefix + s.Namespace + "." + s.Name
}

// nodeMarkFits says whether a swarm's node label is a valid label key.
func nodeMarkFits(s *minibitv1alpha1.Swarm) bool {
	return len(validation.IsQualifiedName(NodeMark(s))) == 0
}

// cacheName is the swarm's name in the node cache: <namespace>/<swarm>, both DNS labels that
// the API server validated.
func cacheName(s *minibitv1alpha1.Swarm) string { return s.Namespace + "/" + s.Name }

// NodeCachePath is the stable directory of a swarm's copy on a node whose cache root is root.
func NodeCachePath(root string, s *minibitv1alpha1.Swarm) string {
	return path.Join(root, "by-name", s.Namespace, s.Name)
}

// nodeLabelValue is the node label value of a node pod: the node's name when it is a valid
// label value, its hash otherwise (node names may be up to 253 characters).
func nodeLabelValue(node string) string {
	if len(validation.IsValidLabelValue(node)) == 0 {
		return node
	}
	return nodeHash(node)
}

// buildNodePod is a PerNode swarm's peer on one node: `peer get` keeping its copy in the node's
// cache (hostPath root, mounted at nodeCacheMount), pinned to the node, non-root, after an init
// container that makes the cache the peer's. It keeps seeding once verified.
func buildNodePod(s *minibitv1alpha1.Swarm, d PodDefaults, root, node string, attempt int32) *corev1.Pod {
	st := settingsOf(s)
	args := append([]string{"get"}, peerArgs(s)...)
	args = append(args,
		"--cache-root="+nodeCacheMount,
		"--cache-name="+cacheName(s),
		"--cache-retention="+st.retention.String())
	if h := s.Spec.Source.HTTP; h != nil && validSHA256(h.SHA256) {
		args = append(args, "--sha256="+h.SHA256)
	}
	c := peerContainer(s, d, "peer", args)
	c.VolumeMounts = []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}, {Name: "cache", MountPath: nodeCacheMount}}
	pod := nodeBoundPod(s, NodePodName(s, node), RolePeer, root, node, c)
	pod.Labels[LabelAttempt] = strconv.Itoa(int(attempt))
	pod.Spec.Tolerations = append(append([]corev1.Toleration(nil), s.Spec.Placement.Tolerations...), s.Spec.Pod.Tolerations...)
	pod.Spec.InitContainers = []corev1.Container{cachePermissionsContainer(s, d)}
	return pod
}

// buildCleanPod releases a deleted swarm's copy on a node: `peer cache-release` removes its
// by-name link (the content goes at the next cache GC, after the retention). It tolerates every
// taint, so that a node tainted since cannot hold the Swarm's deletion forever.
func buildCleanPod(s *minibitv1alpha1.Swarm, d PodDefaults, root, node string) *corev1.Pod {
	c := container(s, d, "clean", "/peer", []string{
		"cache-release", "--cache-root=" + nodeCacheMount, "--cache-name=" + cacheName(s),
	}, "")
	c.ReadinessProbe, c.LivenessProbe = nil, nil
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "cache", MountPath: nodeCacheMount})
	c.Resources = resourceRequirements("10m", "16Mi", "64Mi")
	pod := nodeBoundPod(s, CleanPodName(s, node), RoleClean, root, node, c)
	pod.OwnerReferences = nil // it must outlive a foreground deletion; the finalizer deletes it
	pod.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	return pod
}

// nodeBoundPod wraps a container in a pod pinned to a node (required node affinity on
// metadata.name), with the node's cache root as a hostPath volume.
func nodeBoundPod(s *minibitv1alpha1.Swarm, name string, role Role, root, node string, c corev1.Container) *corev1.Pod {
	pod := basePod(s, role, 0, 0, c)
	pod.Name = name
	delete(pod.Labels, LabelIndex)
	delete(pod.Labels, LabelAttempt)
	pod.Labels[LabelNode] = nodeLabelValue(node)
	pod.Annotations = map[string]string{AnnotationNode: node}
	pod.Spec.NodeSelector = nil // the placement chooses the nodes, not spec.pod.nodeSelector
	pod.Spec.Tolerations = nil
	pod.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
		}}},
	}}
	pod.Spec.SecurityContext.FSGroup = nil // not applied to a hostPath; the init container chowns instead
	pod.Spec.Volumes = []corev1.Volume{pod.Spec.Volumes[0], {Name: "cache", VolumeSource: corev1.VolumeSource{
		HostPath: &corev1.HostPathVolumeSource{Path: root, Type: ptr.To(corev1.HostPathDirectoryOrCreate)},
	}}}
	return pod
}

// cachePermissionsContainer runs `peer cache-prepare` as root with only CAP_CHOWN and
// CAP_DAC_OVERRIDE: it creates content/ and by-name/ and gives the cache root to the non-root
// peer. It is the only container that runs as root, and it runs before the peer starts.
func cachePermissionsContainer(s *minibitv1alpha1.Swarm, d PodDefaults) corev1.Container {
	c := container(s, d, cacheInitContainer, "/peer", []string{
		"cache-prepare", "--cache-root=" + nodeCacheMount, "--uid=" + strconv.FormatInt(nonRootID, 10),
	}, "")
	c.ReadinessProbe, c.LivenessProbe = nil, nil
	c.VolumeMounts = []corev1.VolumeMount{{Name: "cache", MountPath: nodeCacheMount}}
	c.Resources = resourceRequirements("10m", "16Mi", "64Mi")
	c.SecurityContext.RunAsNonRoot = ptr.To(false)
	c.SecurityContext.RunAsUser = ptr.To[int64](0)
	c.SecurityContext.RunAsGroup = ptr.To[int64](0)
	c.SecurityContext.Capabilities = &corev1.Capabilities{
		Drop: []corev1.Capability{"ALL"},
		Add:  []corev1.Capability{"CHOWN", "DAC_OVERRIDE"},
	}
	return c
}
