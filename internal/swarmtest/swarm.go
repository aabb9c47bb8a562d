// Package swarmtest builds Swarm objects for tests, in one sentence each:
// swarmtest.MakeSwarm("demo", ns).Peers(6).ExitOnComplete().Obj(). The controller tests (unit
// and envtest) and the e2e suite share it, so that a Swarm reads the same way in all of them.
// It builds objects only: it talks to no API server.
package swarmtest

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/minibit-io/minibit/api/v1alpha1"
)

// Defaults of MakeSwarm: the smallest Swarm the API server accepts, with content that needs no
// outside source.
const (
	DefaultPeers        = 3
	DefaultGenerateSize = "1Mi"
	DefaultGenerateSeed = 7
)

// SwarmWrapper is a Swarm under construction. Its setters change it and return it, so that they
// chain; Obj returns a copy.
type SwarmWrapper struct{ v1alpha1.Swarm }

// MakeSwarm starts a Swarm named name in namespace: DefaultPeers peers of DefaultGenerateSize
// bytes generated from DefaultGenerateSeed. The fields it leaves unset (seeders, piece size,
// choking, ...) are left to the API server's defaults, or to the controller's where no API
// server runs.
func MakeSwarm(name, namespace string) *SwarmWrapper {
	return &SwarmWrapper{v1alpha1.Swarm{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Swarm"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: v1alpha1.SwarmSpec{
			Source: v1alpha1.Source{Generate: &v1alpha1.GenerateSource{
				Size: resource.MustParse(DefaultGenerateSize), Seed: DefaultGenerateSeed}},
			Peers: DefaultPeers,
		},
	}}
}

// Obj returns a copy of the Swarm built so far: later setters do not change it.
func (w *SwarmWrapper) Obj() *v1alpha1.Swarm { return w.DeepCopy() }

// UID sets metadata.uid, as the API server would on creation (for owner references).
func (w *SwarmWrapper) UID(uid string) *SwarmWrapper { w.Swarm.UID = types.UID(uid); return w }

// Peers sets spec.peers.
func (w *SwarmWrapper) Peers(n int32) *SwarmWrapper { w.Spec.Peers = n; return w }

// Seeders sets spec.seeders.
func (w *SwarmWrapper) Seeders(n int32) *SwarmWrapper { w.Spec.Seeders = n; return w }

// PieceSize sets spec.pieceSize to the quantity q ("1Mi") or "Auto".
func (w *SwarmWrapper) PieceSize(q string) *SwarmWrapper {
	w.Spec.PieceSize = ptr.To(intstr.FromString(q))
	return w
}

// V1Twin sets spec.v1Twin: the payload is also served under a v1-only torrent.
func (w *SwarmWrapper) V1Twin() *SwarmWrapper { w.Spec.V1Twin = true; return w }

// Source replaces spec.source.
func (w *SwarmWrapper) Source(s v1alpha1.Source) *SwarmWrapper { w.Spec.Source = s; return w }

// Generate makes the source size bytes (a quantity, "64Mi") generated from seed.
func (w *SwarmWrapper) Generate(size string, seed int64) *SwarmWrapper {
	return w.Source(v1alpha1.Source{Generate: &v1alpha1.GenerateSource{Size: resource.MustParse(size), Seed: seed}})
}

// HTTP makes the source the file at url, with its SHA-256 in hex (or "" for none).
func (w *SwarmWrapper) HTTP(url, sha256 string) *SwarmWrapper {
	return w.Source(v1alpha1.Source{HTTP: &v1alpha1.HTTPSource{URL: url, SHA256: sha256}})
}

// HTTPURLs makes the source the directory of the files at urls.
func (w *SwarmWrapper) HTTPURLs(urls ...string) *SwarmWrapper {
	return w.Source(v1alpha1.Source{HTTP: &v1alpha1.HTTPSource{URLs: urls}})
}

// HTTPSecrets names the http source's headers Secret and CA Secret ("" for none).
func (w *SwarmWrapper) HTTPSecrets(headers, ca string) *SwarmWrapper {
	w.Spec.Source.HTTP.HeadersSecret, w.Spec.Source.HTTP.CASecret = headers, ca
	return w
}

// OCI makes the source the OCI artifact ref, pulled with the pull Secret pullSecret ("" for
// anonymous).
func (w *SwarmWrapper) OCI(ref, pullSecret string) *SwarmWrapper {
	return w.Source(v1alpha1.Source{OCI: &v1alpha1.OCISource{Ref: ref, PullSecret: pullSecret}})
}

// S3 makes the source the objects under prefix in bucket at endpoint, read with the
// credentials Secret creds ("" for anonymous).
func (w *SwarmWrapper) S3(endpoint, bucket, prefix, creds string) *SwarmWrapper {
	return w.Source(v1alpha1.Source{S3: &v1alpha1.S3Source{Endpoint: endpoint, Bucket: bucket, Prefix: prefix,
		CredentialsSecret: creds}})
}

// IncludeExclude sets source.include and source.exclude (nil for none).
func (w *SwarmWrapper) IncludeExclude(include, exclude []string) *SwarmWrapper {
	w.Spec.Source.Include, w.Spec.Source.Exclude = include, exclude
	return w
}

// SourceMaxBytes sets source.maxBytes to the quantity q ("500Gi").
func (w *SwarmWrapper) SourceMaxBytes(q string) *SwarmWrapper {
	w.Spec.Source.MaxBytes = ptr.To(resource.MustParse(q))
	return w
}

// PVC makes the source the file (or directory) at path in the PersistentVolumeClaim claim.
func (w *SwarmWrapper) PVC(claim, path string) *SwarmWrapper {
	return w.Source(v1alpha1.Source{PersistentVolumeClaim: &v1alpha1.PVCSource{ClaimName: claim, Path: path}})
}

// ChokeStrategy sets spec.choking.strategy.
func (w *SwarmWrapper) ChokeStrategy(s v1alpha1.ChokingStrategy) *SwarmWrapper {
	w.Spec.Choking.Strategy = s
	return w
}

// UploadRate caps each peer's upload at the quantity q per second ("1Mi").
func (w *SwarmWrapper) UploadRate(q string) *SwarmWrapper {
	w.Spec.UploadRate = ptr.To(resource.MustParse(q))
	return w
}

// DownloadRate caps each peer's download at the quantity q per second ("1Mi").
func (w *SwarmWrapper) DownloadRate(q string) *SwarmWrapper {
	w.Spec.DownloadRate = ptr.To(resource.MustParse(q))
	return w
}

// AnnounceInterval sets spec.tracker.announceInterval, the peers' heartbeat.
func (w *SwarmWrapper) AnnounceInterval(d time.Duration) *SwarmWrapper {
	w.Spec.Tracker.AnnounceInterval = &metav1.Duration{Duration: d}
	return w
}

// PeerAction sets spec.failurePolicy.peerAction: what happens to a peer pod that fails.
func (w *SwarmWrapper) PeerAction(a v1alpha1.FailureAction) *SwarmWrapper {
	w.Spec.FailurePolicy.PeerAction = a
	return w
}

// MaxPeerFailures sets spec.failurePolicy.maxPeerFailures.
func (w *SwarmWrapper) MaxPeerFailures(n int32) *SwarmWrapper {
	w.Spec.FailurePolicy.MaxPeerFailures = ptr.To(n)
	return w
}

// Backoff sets spec.failurePolicy.backoff.initial, the first wait before a replacement.
func (w *SwarmWrapper) Backoff(initial time.Duration) *SwarmWrapper {
	w.Spec.FailurePolicy.Backoff.Initial = &metav1.Duration{Duration: initial}
	return w
}

// ExitOnComplete sets spec.completion.mode to Exit: peers exit once they hold the file.
func (w *SwarmWrapper) ExitOnComplete() *SwarmWrapper {
	w.Spec.Completion.Mode = v1alpha1.CompletionExit
	return w
}

// TTL sets spec.completion.ttlSecondsAfterFinished.
func (w *SwarmWrapper) TTL(seconds int32) *SwarmWrapper {
	w.Spec.Completion.TTLSecondsAfterFinished = ptr.To(seconds)
	return w
}

// StorageVolume sets spec.storage.volume (nil: the default emptyDir).
func (w *SwarmWrapper) StorageVolume(v *corev1.VolumeSource) *SwarmWrapper {
	w.Spec.Storage.Volume = v.DeepCopy()
	return w
}

// HostPath stores the pods' data under path on the node.
func (w *SwarmWrapper) HostPath(path string) *SwarmWrapper {
	return w.StorageVolume(&corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}})
}

// Chaos turns on the chaos drill: count peer pods deleted, one every interval.
func (w *SwarmWrapper) Chaos(interval time.Duration, count int32) *SwarmWrapper {
	w.Spec.Chaos = &v1alpha1.Chaos{Interval: &metav1.Duration{Duration: interval}, Count: count}
	return w
}

// NetworkPolicy sets spec.networkPolicy.enabled.
func (w *SwarmWrapper) NetworkPolicy(enabled bool) *SwarmWrapper {
	w.Spec.NetworkPolicy.Enabled = ptr.To(enabled)
	return w
}

// Image sets the pods' image and pull policy (spec.pod).
func (w *SwarmWrapper) Image(image string, pull corev1.PullPolicy) *SwarmWrapper {
	w.Spec.Pod.Image, w.Spec.Pod.ImagePullPolicy = image, pull
	return w
}

// Resources sets the resources of the peer and seeder containers (spec.pod.resources).
func (w *SwarmWrapper) Resources(r corev1.ResourceRequirements) *SwarmWrapper {
	w.Spec.Pod.Resources = r.DeepCopy()
	return w
}

// TrackerResources sets the resources of the tracker container (spec.pod.trackerResources).
func (w *SwarmWrapper) TrackerResources(r corev1.ResourceRequirements) *SwarmWrapper {
	w.Spec.Pod.TrackerResources = r.DeepCopy()
	return w
}

// Status sets the whole status, as a controller would have written it.
func (w *SwarmWrapper) Status(s v1alpha1.SwarmStatus) *SwarmWrapper {
	w.Swarm.Status = *s.DeepCopy()
	return w
}
