package controllers

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// DefaultImage is the image holding /manager, /tracker and /peer.
const DefaultImage = "minibit:dev"

// nonRootID is the distroless "nonroot" user and group.
const nonRootID int64 = 65532

// PodDefaults are the manager-wide choices for the pods it creates; a Swarm's spec.pod
// overrides them.
type PodDefaults struct {
	// Image holds the engine's binaries (the manager's --image).
	Image string
	// PullPolicy of every container.
	PullPolicy corev1.PullPolicy
}

// buildTrackerService is the Service peers reach the tracker through.
func buildTrackerService(s *minibitv1alpha1.Swarm) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: childMeta(s, TrackerName(s), RoleTracker),
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{LabelSwarm: s.Name, LabelRole: string(RoleTracker)},
			Ports: []corev1.ServicePort{{
				Name: "http", Port: trackerPort, TargetPort: intstr.FromString("http"),
				Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}

// buildPod is the pod of a role at an index; attempt counts the replacements of that name.
func buildPod(s *minibitv1alpha1.Swarm, d PodDefaults, role Role, index int, attempt int32) *corev1.Pod {
	switch role {
	case RoleTracker:
		return buildTrackerPod(s, d, attempt)
	case RoleSeeder:
		return buildSeederPod(s, d, index, attempt)
	default:
		return buildPeerPod(s, d, index, attempt)
	}
}

// buildTrackerPod runs /tracker: the design note's phone book.
func buildTrackerPod(s *minibitv1alpha1.Swarm, d PodDefaults, attempt int32) *corev1.Pod {
	st := settingsOf(s)
	c := container(s, d, "tracker", "/tracker", []string{
		"--listen=:" + strconv.Itoa(trackerPort),
		"--announce-interval=" + st.announceInterval.String(),
		"--peer-ttl=" + st.peerTTL.String(),
		"--numwant=" + strconv.Itoa(int(st.numWant)),
		"--publish-secret-file=" + publishTokenPath,
		"--registered-only",
		"--max-torrent-bytes=" + strconv.FormatInt(maxTorrentBytes(st), 10),
	}, "http")
	c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: trackerPort, Protocol: corev1.ProtocolTCP}}
	c.Resources = resourcesOr(s.Spec.Pod.TrackerResources, defaultTrackerResources)
	c.Env = append(c.Env, goMemLimit)
	return withPublishSecret(s, basePod(s, RoleTracker, 0, attempt, c))
}

// buildSeederPod runs `/peer seed`: a pod that fetches the payload from its source (the only
// pods that touch it, and the only ones that mount its Secrets) and holds it whole from the
// start.
func buildSeederPod(s *minibitv1alpha1.Swarm, d PodDefaults, index int, attempt int32) *corev1.Pod {
	st := settingsOf(s)
	file, extra := seederSource(s, st)
	// The piece size is the seeder's: it creates the torrent; peers learn it from the torrent.
	pieceSize := "auto"
	if !st.autoPieceSize {
		pieceSize = formatSize(st.pieceSize)
	}
	args := append([]string{"seed", "--file=" + file, "--piece-size=" + pieceSize}, peerArgs(s)...)
	args = append(args, "--publish-secret-file="+publishTokenPath)
	c := peerContainer(s, d, "seeder", append(args, extra...))
	pod := withPublishSecret(s, basePod(s, RoleSeeder, index, attempt, c))
	if pvc := s.Spec.Source.PersistentVolumeClaim; pvc != nil {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "source", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: pvc.ClaimName, ReadOnly: true},
		}})
		pod.Spec.Containers[0].VolumeMounts = append(pod.Spec.Containers[0].VolumeMounts,
			corev1.VolumeMount{Name: "source", MountPath: sourceDir, ReadOnly: true})
	}
	return withSourceSecrets(s, pod)
}

// buildPeerPod runs `/peer get`: a leecher that downloads the file from the others and serves
// what it has.
func buildPeerPod(s *minibitv1alpha1.Swarm, d PodDefaults, index int, attempt int32) *corev1.Pod {
	args := append([]string{"get", "--dir=" + dataDir}, peerArgs(s)...)
	if settingsOf(s).exitOnComplete {
		args = append(args, "--exit-on-complete")
	}
	if h := s.Spec.Source.HTTP; h != nil && validSHA256(h.SHA256) {
		args = append(args, "--sha256="+h.SHA256)
	}
	return basePod(s, RolePeer, index, attempt, peerContainer(s, d, "peer", args))
}

// peerArgs are the flags seeders and peers share: where the tracker is, who they are, the
// swarm's tuning, the pinned content once the swarm has one, and the v1 twin when asked for.
func peerArgs(s *minibitv1alpha1.Swarm) []string {
	st := settingsOf(s)
	args := []string{
		"--tracker=" + InClusterTrackerURL(s),
		"--swarm=" + s.Name,
		"--name=$(POD_NAME)",
		"--listen=:" + strconv.Itoa(peerPort),
		"--metrics-addr=:" + strconv.Itoa(metricsPort),
		"--unchoke-slots=" + strconv.Itoa(int(st.unchokeSlots)),
		"--optimistic-slots=" + strconv.Itoa(int(st.optimisticSlots)),
		"--choke-interval=" + st.chokeInterval.String(),
		"--choke-strategy=" + chokeStrategyFlag(st.chokeStrategy),
		"--timeout=" + st.timeout.String(),
		"--numwant=" + strconv.Itoa(int(st.numWant)),
		"--max-peers=" + strconv.Itoa(int(st.maxPeers)),
	}
	if st.uploadRate > 0 {
		args = append(args, "--upload-rate="+strconv.FormatInt(st.uploadRate, 10))
	}
	if st.downloadRate > 0 {
		args = append(args, "--download-rate="+strconv.FormatInt(st.downloadRate, 10))
	}
	if pinned := s.Status.InfoHash; validInfoHash(pinned) {
		args = append(args, "--info-hash="+pinned)
	}
	if s.Spec.V1Twin {
		args = append(args, "--v1-twin") // every MiniBit peer serves what it holds to v1 clients too
	}
	return args
}

// chokeStrategyFlag is the peer's --choke-strategy value for the CRD's choking.strategy.
func chokeStrategyFlag(s minibitv1alpha1.ChokingStrategy) string {
	if s == minibitv1alpha1.ChokingRarity {
		return "rarity"
	}
	return "tit-for-tat"
}

// peerContainer is the container of a seeder or a peer: /peer with its ports, its data volume
// and $(POD_NAME) for the name it announces.
func peerContainer(s *minibitv1alpha1.Swarm, d PodDefaults, name string, args []string) corev1.Container {
	c := container(s, d, name, "/peer", args, "metrics")
	c.Ports = []corev1.ContainerPort{
		{Name: "bittorrent", ContainerPort: peerPort, Protocol: corev1.ProtocolTCP},
		{Name: "metrics", ContainerPort: metricsPort, Protocol: corev1.ProtocolTCP},
	}
	c.Env = []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"},
	}}, goMemLimit}
	mount := corev1.VolumeMount{Name: "data", MountPath: dataDir}
	if s.Spec.Storage.Volume != nil {
		mount.SubPathExpr = "$(POD_NAME)" // many pods may share the user's volume
	}
	c.VolumeMounts = append(c.VolumeMounts, mount)
	c.Resources = resourcesOr(s.Spec.Pod.Resources, defaultPeerResources)
	return c
}

// container is a non-root, read-only container of the engine's image with /healthz probes on
// the named port.
func container(s *minibitv1alpha1.Swarm, d PodDefaults, name, command string, args []string, probePort string) corev1.Container {
	image := orDefault(s.Spec.Pod.Image, orDefault(d.Image, DefaultImage))
	pull := orDefault(s.Spec.Pod.ImagePullPolicy, orDefault(d.PullPolicy, corev1.PullIfNotPresent))
	probe := func(period, failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: "/healthz", Port: intstr.FromString(probePort),
			}},
			PeriodSeconds: period, FailureThreshold: failures, TimeoutSeconds: 2,
		}
	}
	return corev1.Container{
		Name:            name,
		Image:           image,
		ImagePullPolicy: pull,
		Command:         []string{command},
		Args:            args,
		ReadinessProbe:  probe(5, 3),
		LivenessProbe:   probe(10, 6),
		VolumeMounts:    []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			RunAsNonRoot:             ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
}

// basePod wraps a container in a pod owned by the Swarm: deterministic name, standard labels,
// restartPolicy Never (the controller applies the failure policy), a non-root security context,
// the user's placement, and its volumes.
func basePod(s *minibitv1alpha1.Swarm, role Role, index int, attempt int32, c corev1.Container) *corev1.Pod {
	meta := childMeta(s, PodName(s, role, index), role)
	meta.Labels[LabelIndex] = strconv.Itoa(index)
	meta.Labels[LabelAttempt] = strconv.Itoa(int(attempt))
	volumes := []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
		SizeLimit: ptr.To(resource.MustParse("64Mi")),
	}}}}
	if role != RoleTracker {
		volumes = append(volumes, corev1.Volume{Name: "data", VolumeSource: dataVolume(s)})
	}
	return &corev1.Pod{
		ObjectMeta: meta,
		Spec: corev1.PodSpec{
			Containers:                    []corev1.Container{c},
			RestartPolicy:                 corev1.RestartPolicyNever,
			Volumes:                       volumes,
			NodeSelector:                  s.Spec.Pod.NodeSelector,
			Tolerations:                   s.Spec.Pod.Tolerations,
			AutomountServiceAccountToken:  ptr.To(false),
			EnableServiceLinks:            ptr.To(false),
			TerminationGracePeriodSeconds: ptr.To[int64](10),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr.To(true),
				RunAsUser:      ptr.To(nonRootID),
				RunAsGroup:     ptr.To(nonRootID),
				FSGroup:        ptr.To(nonRootID),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
		},
	}
}

// dataVolume is where a pod keeps its copy: the user's volume or an emptyDir.
func dataVolume(s *minibitv1alpha1.Swarm) corev1.VolumeSource {
	if v := s.Spec.Storage.Volume; v != nil {
		return *v.DeepCopy()
	}
	empty := &corev1.EmptyDirVolumeSource{}
	if limit := s.Spec.Storage.SizeLimit; limit != nil {
		empty.SizeLimit = ptr.To(limit.DeepCopy())
	}
	return corev1.VolumeSource{EmptyDir: empty}
}

// childMeta is the metadata of a child: its name, the Swarm's namespace, labels and the
// controller owner reference.
func childMeta(s *minibitv1alpha1.Swarm, name string, role Role) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      name,
		Namespace: s.Namespace,
		Labels:    childLabels(s, role),
		OwnerReferences: []metav1.OwnerReference{
			*metav1.NewControllerRef(s, minibitv1alpha1.GroupVersion.WithKind("Swarm")),
		},
	}
}

// resourcesOr is the user's resources when set (they replace the defaults as a whole), or the
// defaults.
func resourcesOr(r *corev1.ResourceRequirements, defaults corev1.ResourceRequirements) corev1.ResourceRequirements {
	if r != nil {
		return *r.DeepCopy()
	}
	return *defaults.DeepCopy()
}
