package controllers

import (
	"slices"

	"time"

	"k8s.io/apimachinery/pkg/api/equality"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// swarmWrapper builds Swarms for tests in sentences: makeSwarm("a", ns).Peers(3).Obj().
type swarmWrapper struct{ minibitv1alpha1.Swarm }

// makeSwarm is a Swarm of 3 peers and 1 seeder of a generated 1Mi file.
func makeSwarm(name, namespace string) *swarmWrapper {
	return &swarmWrapper{minibitv1alpha1.Swarm{
		TypeMeta:   metav1.TypeMeta{APIVersion: minibitv1alpha1.GroupVersion.String(), Kind: "Swarm"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: minibitv1alpha1.SwarmSpec{
			Source: minibitv1alpha1.Source{Generate: &minibitv1alpha1.GenerateSource{Size: resource.MustParse("1Mi"), Seed: 7}},
			Peers:  3,
		},
	}}
}

func (w *swarmWrapper) Obj() *minibitv1alpha1.Swarm { return w.DeepCopy() }

func (w *swarmWrapper) UID(uid string) *swarmWrapper { w.Swarm.UID = typesUID(uid); return w }

func (w *swarmWrapper) Peers(n int32) *swarmWrapper { w.Spec.Peers = n; return w }

func (w *swarmWrapper) Seeders(n int32) *swarmWrapper { w.Spec.Seeders = n; return w }

func (w *swarmWrapper) PieceSize(q string) *swarmWrapper {
	w.Spec.PieceSize = ptr.To(resource.MustParse(q))
	return w
}

func (w *swarmWrapper) HTTP(url, sha string) *swarmWrapper {
	w.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{URL: url, SHA256: sha}}
	return w
}

func (w *swarmWrapper) PVC(claim, path string) *swarmWrapper {
	w.Spec.Source = minibitv1alpha1.Source{PersistentVolumeClaim: &minibitv1alpha1.PVCSource{ClaimName: claim, Path: path}}
	return w
}

func (w *swarmWrapper) Source(s minibitv1alpha1.Source) *swarmWrapper { w.Spec.Source = s; return w }

func (w *swarmWrapper) PeerAction(a minibitv1alpha1.FailureAction) *swarmWrapper {
	w.Spec.FailurePolicy.PeerAction = a
	return w
}

func (w *swarmWrapper) MaxPeerFailures(n int32) *swarmWrapper {
	w.Spec.FailurePolicy.MaxPeerFailures = ptr.To(n)
	return w
}

func (w *swarmWrapper) Backoff(initial time.Duration) *swarmWrapper {
	w.Spec.FailurePolicy.Backoff.Initial = &metav1.Duration{Duration: initial}
	return w
}

func (w *swarmWrapper) ExitOnComplete() *swarmWrapper {
	w.Spec.Completion.Mode = minibitv1alpha1.CompletionExit
	return w
}

func (w *swarmWrapper) TTL(seconds int32) *swarmWrapper {
	w.Spec.Completion.TTLSecondsAfterFinished = ptr.To(seconds)
	return w
}

func (w *swarmWrapper) Chaos(interval time.Duration, count int32) *swarmWrapper {
	w.Spec.Chaos = &minibitv1alpha1.Chaos{Interval: &metav1.Duration{Duration: interval}, Count: count}
	return w
}

func (w *swarmWrapper) RateLimits(up, down string) *swarmWrapper {
	w.Spec.UploadRate = ptr.To(resource.MustParse(up))
	w.Spec.DownloadRate = ptr.To(resource.MustParse(down))
	return w
}

func typesUID(s string) types.UID { return types.UID(s) }

func withStatus(s *minibitv1alpha1.Swarm, st minibitv1alpha1.SwarmStatus) *minibitv1alpha1.Swarm {
	s.Status = st
	return s
}

func equalStrings(a, b []string) bool { return slices.Equal(a, b) }

func equalStatus(a, b minibitv1alpha1.SwarmStatus) bool { return equality.Semantic.DeepEqual(a, b) }

func nsName(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}
