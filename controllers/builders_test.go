package controllers

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/swarmtest"
)

func TestBuildPodArgs(t *testing.T) {
	tests := []struct {
		name  string
		swarm *minibitv1alpha1.Swarm
		role  Role
		want  []string
		never []string
	}{{
		name:  "peer with the engine's defaults",
		swarm: swarmtest.MakeSwarm("demo", "ns").Obj(),
		role:  RolePeer,
		want: []string{"get", "--dir=/data", "--tracker=http://demo-tracker.ns.svc:8080", "--swarm=demo", "--name=$(POD_NAME)",
			"--listen=:6881", "--metrics-addr=:9090", "--unchoke-slots=4", "--optimistic-slots=1",
			"--choke-interval=10s", "--choke-strategy=tit-for-tat", "--timeout=10s", "--numwant=5", "--max-peers=50"},
		never: []string{"--exit-on-complete", "--upload-rate", "--download-rate", "--piece-size"},
	}, {
		name:  "peer that exits when done, with rate limits and 1Mi pieces",
		swarm: swarmtest.MakeSwarm("demo", "ns").ExitOnComplete().UploadRate("1Mi").DownloadRate("2Mi").PieceSize("1Mi").Obj(),
		role:  RolePeer,
		want:  []string{"--exit-on-complete", "--upload-rate=1048576", "--download-rate=2097152"},
	}, {
		name:  "seeder creating 1Mi pieces",
		swarm: swarmtest.MakeSwarm("demo", "ns").PieceSize("1Mi").Obj(),
		role:  RoleSeeder,
		want:  []string{"seed", "--piece-size=1MiB"},
	}, {
		name:  "seeder of generated content",
		swarm: swarmtest.MakeSwarm("demo", "ns").Obj(),
		role:  RoleSeeder,
		want:  []string{"seed", "--file=/data/demo.bin", "--generate-size=1MiB", "--generate-seed=7"},
		never: []string{"--url", "--exit-on-complete"},
	}, {
		name:  "seeder of an HTTP file with its checksum",
		swarm: swarmtest.MakeSwarm("demo", "ns").HTTP("https://host/path/disk.img?x=1", strings.Repeat("a", 64)).Obj(),
		role:  RoleSeeder,
		want: []string{"--file=/data/disk.img", "--url=https://host/path/disk.img?x=1", "--url-sha256=" + strings.Repeat("a", 64),
			"--max-bytes=32GiB"},
		never: []string{"--generate-size", "--sha256"},
	}, {
		name:  "peer of an HTTP file with its checksum",
		swarm: swarmtest.MakeSwarm("demo", "ns").HTTP("https://host/disk.img", strings.Repeat("a", 64)).Obj(),
		role:  RolePeer,
		want:  []string{"--sha256=" + strings.Repeat("a", 64)},
		never: []string{"--url", "--max-bytes", "--publish-secret-file"},
	}, {
		name:  "seeder of a file in a claim",
		swarm: swarmtest.MakeSwarm("demo", "ns").PVC("images", "v1/disk.img").Obj(),
		role:  RoleSeeder,
		want:  []string{"--file=/source/v1/disk.img"},
		never: []string{"--generate-size", "--url"},
	}, {
		name:  "tracker",
		swarm: swarmtest.MakeSwarm("demo", "ns").Obj(),
		role:  RoleTracker,
		want: []string{"--listen=:8080", "--announce-interval=30s", "--peer-ttl=5m0s", "--numwant=5",
			"--publish-secret-file=/etc/minibit/publish/token", "--registered-only"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkArgs(t, buildPod(tt.swarm, PodDefaults{}, tt.role, 2, 0).Spec.Containers[0].Args, tt.want, tt.never)
		})
	}
}

// checkArgs fails t unless args hold every one of want and none starting with one of never.
func checkArgs(t *testing.T, args, want, never []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(args, w) {
			t.Errorf("args lack %q: %q", w, args)
		}
	}
	for _, n := range never {
		if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, n) }) {
			t.Errorf("args hold %q: %q", n, args)
		}
	}
}

func TestBuildPodIdentityAndSafety(t *testing.T) {
	swarm := swarmtest.MakeSwarm("demo", "ns").UID("uid-1").Image("registry/minibit:v1", "").Obj()
	wantOwners := []metav1.OwnerReference{{APIVersion: minibitv1alpha1.GroupVersion.String(), Kind: "Swarm", Name: "demo", UID: "uid-1",
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
	for _, role := range []Role{RoleTracker, RoleSeeder, RolePeer} {
		pod := buildPod(swarm, PodDefaults{Image: "ignored:dev"}, role, 4, 2)
		wantName := map[Role]string{RoleTracker: "demo-tracker", RoleSeeder: "demo-seeder-4", RolePeer: "demo-peer-4"}[role]
		if pod.Name != wantName || pod.Namespace != "ns" {
			t.Errorf("%s: name %s/%s, want ns/%s", role, pod.Namespace, pod.Name, wantName)
		}
		if diff := cmp.Diff(wantOwners, pod.OwnerReferences); diff != "" {
			t.Errorf("%s: owner references mismatch (-want +got):\n%s", role, diff)
		}
		if got, _ := slotOf(pod.Labels); got.role != role || (role != RoleTracker && got.index != 4) {
			t.Errorf("%s: slot from labels %+v", role, got)
		}
		if attemptOf(pod.Labels) != 2 {
			t.Errorf("%s: attempt %d, want 2", role, attemptOf(pod.Labels))
		}
		c := pod.Spec.Containers[0]
		if c.Image != "registry/minibit:v1" {
			t.Errorf("%s: image %s, want the Swarm's override", role, c.Image)
		}
		if !*c.SecurityContext.ReadOnlyRootFilesystem || *c.SecurityContext.AllowPrivilegeEscalation ||
			!*pod.Spec.SecurityContext.RunAsNonRoot || pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("%s: not a non-root, read-only, never-restarted pod", role)
		}
		if c.ReadinessProbe == nil || c.LivenessProbe == nil {
			t.Errorf("%s: no probes", role)
		}
	}
}

func TestBuildPodStorage(t *testing.T) {
	swarm := swarmtest.MakeSwarm("demo", "ns")
	pod := buildPeerPod(swarm.Obj(), PodDefaults{}, 0, 0)
	if v := volumeNamed(pod, "data"); v == nil || v.EmptyDir == nil {
		t.Fatalf("default data volume is not an emptyDir: %+v", v)
	}
	pod = buildPeerPod(swarm.HostPath("/var/cache/minibit").Obj(), PodDefaults{}, 0, 0)
	if v := volumeNamed(pod, "data"); v == nil || v.HostPath == nil {
		t.Fatalf("data volume is not the user's hostPath: %+v", v)
	}
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		if m.Name == "data" && m.SubPathExpr != "$(POD_NAME)" {
			t.Errorf("a shared volume is mounted without a per-pod sub-path: %+v", m)
		}
	}
}

func volumeNamed(pod *corev1.Pod, name string) *corev1.VolumeSource {
	for _, v := range pod.Spec.Volumes {
		if v.Name == name {
			return &v.VolumeSource
		}
	}
	return nil
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{262144: "256KiB", 64 << 20: "64MiB", 3 << 30: "3GiB", 1000: "1000", 1536: "1536", 1<<20 + 1: "1048577"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestSlotOfName(t *testing.T) {
	swarm := swarmtest.MakeSwarm("a-peer", "ns").Obj()
	tests := map[string]slot{"a-peer-tracker": {RoleTracker, 0}, "a-peer-seeder-2": {RoleSeeder, 2}, "a-peer-peer-10": {RolePeer, 10}}
	for name, want := range tests {
		if got, ok := slotOfName(swarm, name); !ok || got != want {
			t.Errorf("slotOfName(%s) = %+v %v, want %+v", name, got, ok, want)
		}
	}
	for _, bad := range []string{"a-peer-peer-", "a-peer-peer-x", "other-peer-1", "a-peer-peer--1"} {
		if _, ok := slotOfName(swarm, bad); ok {
			t.Errorf("slotOfName(%s) accepted", bad)
		}
	}
}

func TestBuildPodResources(t *testing.T) {
	swarm := swarmtest.MakeSwarm("demo", "ns").Obj()
	for _, role := range []Role{RoleTracker, RoleSeeder, RolePeer} {
		c := buildPod(swarm, PodDefaults{}, role, 0, 0).Spec.Containers[0]
		r := c.Resources
		if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() || r.Limits.Memory().IsZero() {
			t.Errorf("%s: resources %+v, want cpu and memory requests and a memory limit", role, r)
		}
		if r.Limits.Memory().Cmp(*r.Requests.Memory()) < 0 {
			t.Errorf("%s: memory limit below the request", role)
		}
		if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
			return e.Name == "GOMEMLIMIT" && e.ValueFrom.ResourceFieldRef.Resource == "limits.memory"
		}) {
			t.Errorf("%s: no GOMEMLIMIT from the limit: %+v", role, c.Env)
		}
	}
	if got := buildPeerPod(swarm, PodDefaults{}, 0, 0).Spec.Containers[0].Resources.Limits.Memory().String(); got != "256Mi" {
		t.Errorf("peer memory limit %s, want 256Mi", got)
	}
	if got := buildTrackerPod(swarm, PodDefaults{}, 0).Spec.Containers[0].Resources.Limits.Memory().String(); got != "128Mi" {
		t.Errorf("tracker memory limit %s, want 128Mi", got)
	}
	own := corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}
	swarm = swarmtest.MakeSwarm("demo", "ns").Resources(own).TrackerResources(own).Obj()
	for _, role := range []Role{RoleTracker, RoleSeeder, RolePeer} {
		got := buildPod(swarm, PodDefaults{}, role, 0, 0).Spec.Containers[0].Resources
		if diff := cmp.Diff(own, got); diff != "" {
			t.Errorf("%s: resources mismatch, want the spec's as a whole (-want +got):\n%s", role, diff)
		}
	}
}
