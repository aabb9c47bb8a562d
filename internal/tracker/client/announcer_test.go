package client_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/minibit-io/minibit/internal/tracker"
	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// freeAddr returns a 127.0.0.1 address nothing listens on (for now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// swarmOf is the tracker's view of the swarm of hash (empty when it has none).
func swarmOf(tr *trackertest.Tracker, hash [20]byte) api.Swarm {
	sw, _ := tr.Server.Swarm(hex.EncodeToString(hash[:]))
	return sw
}

// announces reads how many announces of event the tracker answered without a failure.
func announces(t *testing.T, tr *trackertest.Tracker, event string) int {
	t.Helper()
	resp, err := http.Get(tr.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("minibit_tracker_announces_total{event=%q,result=\"ok\"} ", event)
	for line := range strings.Lines(string(body)) {
		if n, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			count, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return count
		}
	}
	return 0
}

// runAnnouncer runs ann until the test ends (or stop is called) and checks that Run returns nil.
func runAnnouncer(t *testing.T, ann *client.Announcer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ann.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestAnnouncerSurvivesATrackerThatComesBack(t *testing.T) {
	addr := freeAddr(t)
	hash := id20(1)
	var left atomic.Int64
	left.Store(1000)
	ann, err := client.NewAnnouncer(client.AnnouncerConfig{
		Client:   &client.Client{BaseURL: "http://" + addr, HTTP: &http.Client{Timeout: time.Second}},
		InfoHash: hash, PeerID: id20('P'), Port: 7000, Name: "pod-0",
		Stats:    func() (int64, int64, int64) { return 0, 1000 - left.Load(), left.Load() },
		Interval: 50 * time.Millisecond, Retry: fastRetry,
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := runAnnouncer(t, ann)

	// The tracker is down: whole heartbeats fail, each after its retries, and the loop goes on.
	waitFor(t, "two failed heartbeats", func() bool { return ann.Failures() >= 2 })
	if ann.Retries() < 4 {
		t.Fatalf("%d retries after %d failed heartbeats, want 2 per heartbeat", ann.Retries(), ann.Failures())
	}
	// The download completes meanwhile: the completed announce fails too, and is kept.
	left.Store(0)
	if err := ann.Completed(context.Background()); err == nil {
		t.Fatal("Completed succeeded with the tracker down")
	}

	// The tracker comes back, on the same address, with one other peer already known.
	tr := trackertest.Start(t, trackertest.At(addr), trackertest.WithHeartbeat(time.Second))
	if _, err := tr.Client.Announce(context.Background(), client.AnnounceRequest{InfoHash: hash, PeerID: id20('O'), Port: 7009, Left: 1}); err != nil {
		t.Fatal(err)
	}
	select {
	case peers := <-ann.Peers():
		assertPeers(t, peers, "127.0.0.1:7009")
	case <-time.After(20 * time.Second):
		t.Fatal("the announcer delivered no peers after the tracker came back")
	}
	// The heartbeat carried "started", then the "completed" that failed.
	waitFor(t, "the completed announce", func() bool {
		sw := swarmOf(tr, hash)
		return sw.Completed == 1 && sw.Seeders == 1 && len(sw.Peers) == 2
	})
	if err := ann.Completed(context.Background()); err != nil {
		t.Fatalf("Completed after the tracker heard it: %v, want nil", err)
	}

	stop()
	sw := swarmOf(tr, hash)
	if len(sw.Peers) != 1 || sw.Peers[0].Port != 7009 {
		t.Fatalf("after shutdown the swarm holds %+v, want only the other peer: stopped was sent", sw.Peers)
	}
	if n := announces(t, tr, "completed"); n != 1 || sw.Completed != 1 {
		t.Fatalf("%d completed announces, %d completions, want exactly 1", n, sw.Completed)
	}
}

// Completed sends the event before it returns, once, however many call it; the heartbeats
// that follow do not repeat it.
func TestCompletedIsSynchronousAndSentOnce(t *testing.T) {
	tr := trackertest.Start(t, trackertest.WithHeartbeat(time.Second))
	hash := id20(2)
	var left atomic.Int64
	left.Store(1000)
	ann, err := client.NewAnnouncer(client.AnnouncerConfig{
		Client: tr.Client, InfoHash: hash, PeerID: id20('P'), Port: 7000,
		Stats: func() (int64, int64, int64) { return 0, 1000 - left.Load(), left.Load() }, Retry: fastRetry,
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := runAnnouncer(t, ann)
	waitFor(t, "the started announce", func() bool { return len(swarmOf(tr, hash).Peers) == 1 })

	left.Store(0)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = ann.Completed(context.Background()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Completed call %d: %v", i, err)
		}
	}
	if sw := swarmOf(tr, hash); sw.Completed != 1 || sw.Seeders != 1 {
		t.Fatalf("when Completed returned the tracker held %d completions and %d seeders, want 1 and 1", sw.Completed, sw.Seeders)
	}
	heartbeats := announces(t, tr, "none")
	waitFor(t, "two more heartbeats", func() bool { return announces(t, tr, "none") >= heartbeats+2 })
	stop()
	if n := announces(t, tr, "completed"); n != 1 {
		t.Fatalf("%d completed announces, want 1", n)
	}
	if n := announces(t, tr, "stopped"); n != 1 {
		t.Fatalf("%d stopped announces, want 1", n)
	}
}

func TestAnnouncerDoesNotRetryAFailureReason(t *testing.T) {
	tr := trackertest.Start(t, trackertest.WithConfig(tracker.Config{MaxSwarms: 1}))
	if _, err := tr.Client.Announce(context.Background(), client.AnnounceRequest{InfoHash: id20(9), PeerID: id20(9), Port: 7009}); err != nil {
		t.Fatal(err)
	}
	ann, err := client.NewAnnouncer(client.AnnouncerConfig{
		Client: tr.Client, InfoHash: id20(1), PeerID: id20('P'), Port: 7000,
		Stats: func() (int64, int64, int64) { return 0, 0, 1 }, Interval: time.Hour, Retry: fastRetry,
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := runAnnouncer(t, ann)
	waitFor(t, "the refused announce", func() bool { return ann.Failures() == 1 })
	if err := ann.Completed(context.Background()); err == nil {
		t.Fatal("a refused completed announce succeeded")
	}
	stop()
	if ann.Retries() != 0 {
		t.Fatalf("%d retries of a refused announce, want 0", ann.Retries())
	}
}

func TestNewAnnouncerChecksItsConfig(t *testing.T) {
	stats := func() (int64, int64, int64) { return 0, 0, 0 }
	for _, cfg := range []client.AnnouncerConfig{
		{Stats: stats, Port: 1},
		{Client: &client.Client{}, Port: 1},
		{Client: &client.Client{}, Stats: stats, Port: 70000},
	} {
		if _, err := client.NewAnnouncer(cfg); err == nil {
			t.Errorf("NewAnnouncer(%+v) accepted a bad config", cfg)
		}
	}
}

// The heartbeat carries the bitfield while the peer has bytes left, and its health.
func TestAnnouncerSendsBitfieldWhileLeechingAndHealth(t *testing.T) {
	tr := trackertest.Start(t)
	m, data := trackertest.Torrent(t, 9*64<<10+1000, 5)
	if err := tr.Client.PublishTorrent(context.Background(), "ten", data); err != nil {
		t.Fatal(err)
	}
	ann, err := client.NewAnnouncer(client.AnnouncerConfig{
		Client: tr.Client, InfoHash: m.InfoHashV1(), PeerID: id20('B'), Port: 7100, Name: "pod-b",
		Stats:    func() (int64, int64, int64) { return 0, 0, 1000 },
		Bitfield: func() []byte { return []byte{0x30, 0} }, // pieces 2 and 3 of 10
		Health:   func() api.PeerHealth { return api.PeerHealth{Connected: 3, ChokedBy: 3} },
		Interval: time.Hour, Retry: fastRetry,
	})
	if err != nil {
		t.Fatal(err)
	}
	runAnnouncer(t, ann)
	waitFor(t, "the announcer's bitfield", func() bool {
		return fmt.Sprint(swarmOf(tr, m.InfoHashV1()).Availability) == "[0 0 1 1 0 0 0 0 0 0]"
	})
	if diff := cmp.Diff(&api.PeerHealth{Connected: 3, ChokedBy: 3}, swarmOf(tr, m.InfoHashV1()).Peers[0].Health); diff != "" {
		t.Errorf("health mismatch (-want +got):\n%s", diff)
	}
}
