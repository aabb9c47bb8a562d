package tracker

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestReapDropsPeersAfterTTLAndEmptySwarms(t *testing.T) {
	clock := newFakeClock()
	reg := prometheus.NewRegistry()
	srv := NewServer(Config{Now: clock.Now, Registerer: reg})
	mustAnnounce(t, srv, id20(1), id20(2), "10.0.0.2:1", 6881, nil)
	mustAnnounce(t, srv, id20(1), id20(3), "10.0.0.3:1", 6881, map[string]string{"left": "0"})
	mustAnnounce(t, srv, id20(9), id20(4), "10.0.0.4:1", 6881, nil)

	clock.Advance(DefaultPeerTTL - time.Second)
	mustAnnounce(t, srv, id20(1), id20(2), "10.0.0.2:1", 6881, nil) // peer 2 stays alive
	srv.reap()
	if swarms, peers, _ := srv.reg.counts(); swarms != 2 || peers != 3 {
		t.Fatalf("before the TTL: %d swarms %d peers, want 2 and 3", swarms, peers)
	}

	clock.Advance(2 * time.Second) // peers 3 and 4 are now silent for TTL+1s
	srv.reap()
	swarms, peers, seeders := srv.reg.counts()
	if swarms != 1 || peers != 1 || seeders != 0 {
		t.Fatalf("after the TTL: %d swarms %d peers %d seeders, want 1, 1, 0", swarms, peers, seeders)
	}
	if got := counterValue(t, srv.metrics.PeersReaped); got != 2 {
		t.Fatalf("peers reaped metric %v, want 2", got)
	}
	resp := mustAnnounce(t, srv, id20(1), id20(5), "10.0.0.5:1", 6881, nil)
	assertPeers(t, resp.Peers, "10.0.0.2:6881")
}

func TestReapKeepsSwarmsWithAStoredTorrent(t *testing.T) {
	clock := newFakeClock()
	srv := NewServer(Config{Now: clock.Now})
	if _, err := srv.reg.putTorrent(id20(1), &storedTorrent{name: "demo", data: []byte("x")}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	mustAnnounce(t, srv, id20(1), id20(2), "10.0.0.2:1", 6881, nil)
	clock.Advance(DefaultPeerTTL)
	srv.reap()
	if swarms, peers, _ := srv.reg.counts(); swarms != 1 || peers != 0 {
		t.Fatalf("%d swarms %d peers, want the named swarm kept without peers", swarms, peers)
	}
}

func TestRunReapsUntilCancelled(t *testing.T) {
	clock := newFakeClock()
	srv := NewServer(Config{Now: clock.Now, PeerTTL: time.Second}) // reaps every second
	mustAnnounce(t, srv, id20(1), id20(2), "10.0.0.2:1", 6881, nil)
	clock.Advance(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, peers, _ := srv.reg.counts(); peers == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not reap the dead peer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
}

// counterValue reads a counter's current value.
func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
