package swarmtest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/minibit-io/minibit/api/v1alpha1"
)

// base is MakeSwarm("demo", "ns") written out.
func base() *v1alpha1.Swarm {
	return &v1alpha1.Swarm{
		TypeMeta:   metav1.TypeMeta{APIVersion: "swarm.minibit.io/v1alpha1", Kind: "Swarm"},
		ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "ns"},
		Spec: v1alpha1.SwarmSpec{
			Source: v1alpha1.Source{Generate: &v1alpha1.GenerateSource{Size: resource.MustParse("1Mi"), Seed: 7}},
			Peers:  3,
		},
	}
}

// Each setter changes its field and nothing else.
func TestSetters(t *testing.T) {
	mem := corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}
	hostPath := &corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/cache/minibit"}}
	tests := []struct {
		name string
		got  *SwarmWrapper
		want func(*v1alpha1.Swarm)
	}{
		{"defaults", MakeSwarm("demo", "ns"), func(*v1alpha1.Swarm) {}},
		{"uid", MakeSwarm("demo", "ns").UID("u-1"), func(s *v1alpha1.Swarm) { s.UID = "u-1" }},
		{"peers and seeders", MakeSwarm("demo", "ns").Peers(6).Seeders(2), func(s *v1alpha1.Swarm) { s.Spec.Peers, s.Spec.Seeders = 6, 2 }},
		{"piece size", MakeSwarm("demo", "ns").PieceSize("1Mi"), func(s *v1alpha1.Swarm) { s.Spec.PieceSize = ptr.To(intstr.FromString("1Mi")) }},
		{"generated", MakeSwarm("demo", "ns").Generate("64Mi", 11), func(s *v1alpha1.Swarm) {
			s.Spec.Source.Generate = &v1alpha1.GenerateSource{Size: resource.MustParse("64Mi"), Seed: 11}
		}},
		{"http", MakeSwarm("demo", "ns").HTTP("https://host/f", "ab"), func(s *v1alpha1.Swarm) {
			s.Spec.Source = v1alpha1.Source{HTTP: &v1alpha1.HTTPSource{URL: "https://host/f", SHA256: "ab"}}
		}},
		{"claim", MakeSwarm("demo", "ns").PVC("c", "a/b"), func(s *v1alpha1.Swarm) {
			s.Spec.Source = v1alpha1.Source{PersistentVolumeClaim: &v1alpha1.PVCSource{ClaimName: "c", Path: "a/b"}}
		}},
		{"v1 twin", MakeSwarm("demo", "ns").V1Twin(), func(s *v1alpha1.Swarm) { s.Spec.V1Twin = true }},
		{"http urls with secrets", MakeSwarm("demo", "ns").HTTPURLs("https://h/a", "https://h/b").HTTPSecrets("hd", "ca"),
			func(s *v1alpha1.Swarm) {
				s.Spec.Source = v1alpha1.Source{HTTP: &v1alpha1.HTTPSource{URLs: []string{"https://h/a", "https://h/b"},
					HeadersSecret: "hd", CASecret: "ca"}}
			}},
		{"oci", MakeSwarm("demo", "ns").OCI("reg/m:v1", "pull"), func(s *v1alpha1.Swarm) {
			s.Spec.Source = v1alpha1.Source{OCI: &v1alpha1.OCISource{Ref: "reg/m:v1", PullSecret: "pull"}}
		}},
		{"s3 with globs and a bound", MakeSwarm("demo", "ns").S3("s3:9000", "bkt", "m/", "creds").
			IncludeExclude([]string{"**/*.bin"}, []string{"tmp/**"}).SourceMaxBytes("1Gi"), func(s *v1alpha1.Swarm) {
			s.Spec.Source = v1alpha1.Source{S3: &v1alpha1.S3Source{Endpoint: "s3:9000", Bucket: "bkt", Prefix: "m/",
				CredentialsSecret: "creds"}, Include: []string{"**/*.bin"}, Exclude: []string{"tmp/**"},
				MaxBytes: ptr.To(resource.MustParse("1Gi"))}
		}},
		{"choke strategy", MakeSwarm("demo", "ns").ChokeStrategy(v1alpha1.ChokingRarity), func(s *v1alpha1.Swarm) {
			s.Spec.Choking.Strategy = v1alpha1.ChokingRarity
		}},
		{"rates", MakeSwarm("demo", "ns").UploadRate("1Mi").DownloadRate("2Mi"), func(s *v1alpha1.Swarm) {
			s.Spec.UploadRate, s.Spec.DownloadRate = ptr.To(resource.MustParse("1Mi")), ptr.To(resource.MustParse("2Mi"))
		}},
		{"announce", MakeSwarm("demo", "ns").AnnounceInterval(5 * time.Second), func(s *v1alpha1.Swarm) {
			s.Spec.Tracker.AnnounceInterval = &metav1.Duration{Duration: 5 * time.Second}
		}},
		{"failure policy", MakeSwarm("demo", "ns").PeerAction(v1alpha1.FailureActionIgnore).MaxPeerFailures(1).Backoff(time.Second),
			func(s *v1alpha1.Swarm) {
				s.Spec.FailurePolicy.PeerAction = v1alpha1.FailureActionIgnore
				s.Spec.FailurePolicy.MaxPeerFailures = ptr.To[int32](1)
				s.Spec.FailurePolicy.Backoff.Initial = &metav1.Duration{Duration: time.Second}
			}},
		{"completion", MakeSwarm("demo", "ns").ExitOnComplete().TTL(1), func(s *v1alpha1.Swarm) {
			s.Spec.Completion = v1alpha1.Completion{Mode: v1alpha1.CompletionExit, TTLSecondsAfterFinished: ptr.To[int32](1)}
		}},
		{"host path", MakeSwarm("demo", "ns").HostPath("/var/cache/minibit"), func(s *v1alpha1.Swarm) { s.Spec.Storage.Volume = hostPath }},
		{"default storage", MakeSwarm("demo", "ns").HostPath("/x").StorageVolume(nil), func(*v1alpha1.Swarm) {}},
		{"chaos", MakeSwarm("demo", "ns").Chaos(time.Second, 2), func(s *v1alpha1.Swarm) {
			s.Spec.Chaos = &v1alpha1.Chaos{Interval: &metav1.Duration{Duration: time.Second}, Count: 2}
		}},
		{"network policy", MakeSwarm("demo", "ns").NetworkPolicy(false), func(s *v1alpha1.Swarm) { s.Spec.NetworkPolicy.Enabled = ptr.To(false) }},
		{"pod", MakeSwarm("demo", "ns").Image("img:v1", corev1.PullNever).Resources(mem).TrackerResources(mem), func(s *v1alpha1.Swarm) {
			s.Spec.Pod = v1alpha1.PodOverrides{Image: "img:v1", ImagePullPolicy: corev1.PullNever, Resources: &mem, TrackerResources: &mem}
		}},
		{"status", MakeSwarm("demo", "ns").Status(v1alpha1.SwarmStatus{InfoHash: "ab", Completed: 1}), func(s *v1alpha1.Swarm) {
			s.Status = v1alpha1.SwarmStatus{InfoHash: "ab", Completed: 1}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := base()
			tt.want(want)
			if diff := cmp.Diff(want, tt.got.Obj()); diff != "" {
				t.Errorf("Swarm mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Obj hands out copies: neither a later setter nor a change to one object reaches another.
func TestObjIsACopy(t *testing.T) {
	w := MakeSwarm("demo", "ns").HostPath("/a")
	first := w.Obj()
	first.Spec.Source.Generate.Seed = 99
	first.Spec.Storage.Volume.HostPath.Path = "/b"
	w.Peers(9)
	second := w.Obj()
	if first.Spec.Peers != 3 || second.Spec.Source.Generate.Seed != 7 || second.Spec.Storage.Volume.HostPath.Path != "/a" {
		t.Errorf("objects share state: first peers %d, second seed %d path %s",
			first.Spec.Peers, second.Spec.Source.Generate.Seed, second.Spec.Storage.Volume.HostPath.Path)
	}
}
