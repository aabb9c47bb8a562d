package controllers

import (
	"context"
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/swarmtest"
	trackerclient "github.com/minibit-io/minibit/internal/tracker/client"
)

// BenchmarkSwarm1000Peers measures, against the envtest API server, how long a Swarm of 1,000
// peers takes from creation until every pod exists and its status is settled, and how many API
// calls that costs per reconcile. Then 1,000 peers announce progress to the in-process tracker
// and it counts the status writes over 10 polling periods: one per period at most, whatever the
// number of peers. Run: KUBEBUILDER_ASSETS=$PWD/bin/k8s go test -run '^$' -bench Swarm1000 -benchtime 1x ./controllers/
func BenchmarkSwarm1000Peers(b *testing.B) {
	const peers = 1000
	period := 500 * time.Millisecond
	te, err := startTestEnv(period)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := te.Stop(); err != nil {
			b.Error(err)
		}
	}()
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-"}}
		if err := te.client.Create(ctx, ns); err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("bench-%d", i)
		reconciles0, writes0, reads0 := reconcileCount(b), te.writes.Load(), te.uncachedReads.Load()
		start := time.Now()
		swarm := swarmtest.MakeSwarm(name, ns.Name).Peers(peers).Obj()
		if err := te.client.Create(ctx, swarm); err != nil {
			b.Fatal(err)
		}
		waitFor(b, 2*time.Minute, func() bool {
			var s minibitv1alpha1.Swarm
			var pods corev1.PodList
			return te.client.Get(ctx, client.ObjectKeyFromObject(swarm), &s) == nil &&
				s.Status.Launched.Peers == peers && s.Status.ObservedGeneration == s.Generation &&
				te.client.List(ctx, &pods, client.InNamespace(ns.Name)) == nil && len(pods.Items) == peers+2
		})
		settled := time.Since(start)
		reconciles := reconcileCount(b) - reconciles0
		b.ReportMetric(settled.Seconds(), "s-to-settle")
		b.ReportMetric(reconciles, "reconciles")
		b.ReportMetric(float64(te.writes.Load()-writes0)/reconciles, "writes/reconcile")
		b.ReportMetric(float64(te.uncachedReads.Load()-reads0)/reconciles, "uncached-reads/reconcile")

		statusWrites := distribute(b, te, name, peers, 10*period)
		b.ReportMetric(float64(statusWrites)/10, "status-writes/period")
	}
}

// distribute publishes a file for the swarm, has every peer announce a different progress, and
// returns how many status writes the controller made during d after that.
func distribute(b *testing.B, te *testEnv, name string, peers int, d time.Duration) int64 {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), name)
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
		b.Fatal(err)
	}
	mi, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: 16 << 10})
	if err != nil {
		b.Fatal(err)
	}
	data, err := mi.Encode()
	if err != nil {
		b.Fatal(err)
	}
	trk := te.tracker.Client
	if err := trk.PublishTorrent(ctx, name, data); err != nil {
		b.Fatal(err)
	}
	setPodIPs(b, te, name, "127.0.0.1") // the controller counts only announces from a pod's IP
	announceAll := func(round int) {
		for i := range peers {
			pod := fmt.Sprintf("%s-peer-%d", name, i)
			left := mi.Info.Length * int64(peers-i) / int64(peers) / int64(round+1)
			if _, err := trk.Announce(ctx, trackerclient.AnnounceRequest{InfoHash: mi.InfoHashV1(), PeerID: sha1.Sum([]byte(pod)),
				Port: 1024 + i, Left: left, Name: pod}); err != nil {
				b.Fatal(err)
			}
		}
	}
	announceAll(0)
	before := te.statusWrites.Load()
	deadline := time.Now().Add(d)
	for round := 1; time.Now().Before(deadline); round++ {
		announceAll(round) // progress keeps changing, as in a real download
	}
	return te.statusWrites.Load() - before
}

// reconcileCount reads controller-runtime's reconcile counter of the Swarm controller.
func reconcileCount(b *testing.B) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "swarm" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

func waitFor(b *testing.B, limit time.Duration, cond func() bool) {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("not settled after %s", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setPodIPs writes IP ip and phase Running into every pod of the swarm, as the kubelet would.
func setPodIPs(b *testing.B, te *testEnv, swarm, ip string) {
	ctx := context.Background()
	var pods corev1.PodList
	if err := te.client.List(ctx, &pods, client.MatchingLabels{LabelSwarm: swarm}); err != nil {
		b.Fatal(err)
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		pod.Status.Phase = corev1.PodRunning
		pod.Status.PodIP, pod.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
		if err := te.client.Status().Update(ctx, pod); err != nil {
			b.Fatal(err)
		}
	}
}
