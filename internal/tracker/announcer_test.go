package tracker

import (
	"context"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/backoff"
)

// fastRetry keeps announcer tests quick: three attempts a few milliseconds apart.
var fastRetry = backoff.Policy{Initial: time.Millisecond, Max: 5 * time.Millisecond, Multiplier: 2, Attempts: 3}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

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

func TestAnnouncerSurvivesATrackerThatComesBack(t *testing.T) {
	addr := freeAddr(t)
	hash := id20(1)
	var left atomic.Int64
	left.Store(1000)
	ann, err := NewAnnouncer(AnnouncerConfig{
		Client:   &Client{BaseURL: "http://" + addr, HTTP: &http.Client{Timeout: time.Second}},
		InfoHash: hash, PeerID: id20('P'), Port: 7000, Name: "pod-0",
		Stats:    func() (int64, int64, int64) { return 0, 1000 - left.Load(), left.Load() },
		Interval: 50 * time.Millisecond, Retry: fastRetry,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ann.Run(ctx) }()

	// The tracker is down: whole heartbeats fail, each after its retries, and the loop goes on.
	waitFor(t, "two failed heartbeats", func() bool { return ann.Failures() >= 2 })
	if ann.Retries() < 4 {
		t.Fatalf("%d retries after %d failed heartbeats, want 2 per heartbeat", ann.Retries(), ann.Failures())
	}

	// The tracker comes back, on the same address, with one other peer already known.
	clock := newFakeClock()
	srv := NewServer(Config{Interval: time.Second, Now: clock.Now})
	if _, err := announceAs(t, srv, hash, id20('O'), "10.0.0.9:1", 7009, nil); err != nil {
		t.Fatal(err)
	}
	serveOn(t, addr, srv)

	select {
	case peers := <-ann.Peers():
		assertPeers(t, peers, "10.0.0.9:7009")
	case <-time.After(20 * time.Second):
		t.Fatal("the announcer delivered no peers after the tracker came back")
	}
	waitFor(t, "the tracker to know the peer", func() bool {
		sw, ok := srv.reg.swarmByKey(hexHash(hash), clock.Now(), true)
		return ok && len(sw.Peers) == 2
	})

	left.Store(0)
	ann.Completed()
	ann.Completed() // a second call does nothing
	waitFor(t, "the completed announce", func() bool {
		sw, _ := srv.reg.swarmByKey(hexHash(hash), clock.Now(), false)
		return sw.Completed == 1 && sw.Seeders == 1
	})

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	sw, _ := srv.reg.swarmByKey(hexHash(hash), clock.Now(), true)
	if len(sw.Peers) != 1 || sw.Peers[0].Name != "" {
		t.Fatalf("after shutdown the swarm holds %+v, want only the other peer: stopped was sent", sw.Peers)
	}
	if sw.Completed != 1 {
		t.Fatalf("completed %d, want exactly 1", sw.Completed)
	}
}

func TestAnnouncerDoesNotRetryAFailureReason(t *testing.T) {
	srv, client, _ := startTracker(t, Config{MaxSwarms: 1})
	if _, err := announceAs(t, srv, id20(9), id20(9), "10.0.0.9:1", 7009, nil); err != nil {
		t.Fatal(err)
	}
	ann, err := NewAnnouncer(AnnouncerConfig{
		Client: client, InfoHash: id20(1), PeerID: id20('P'), Port: 7000,
		Stats: func() (int64, int64, int64) { return 0, 0, 1 }, Interval: time.Hour, Retry: fastRetry,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ann.Run(ctx) }()
	waitFor(t, "the refused announce", func() bool { return ann.Failures() == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if ann.Retries() != 0 {
		t.Fatalf("%d retries of a refused announce, want 0", ann.Retries())
	}
}

func TestNewAnnouncerChecksItsConfig(t *testing.T) {
	stats := func() (int64, int64, int64) { return 0, 0, 0 }
	for _, cfg := range []AnnouncerConfig{
		{Stats: stats, Port: 1},
		{Client: &Client{}, Port: 1},
		{Client: &Client{}, Stats: stats, Port: 70000},
	} {
		if _, err := NewAnnouncer(cfg); err == nil {
			t.Errorf("NewAnnouncer(%+v) accepted a bad config", cfg)
		}
	}
}

// serveOn serves h on addr until the test ends, retrying the bind briefly.
func serveOn(t *testing.T, addr string, h http.Handler) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("cannot listen on %s again: %v", addr, err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		if err := hs.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Log(err)
		}
	})
}

// hexHash is the hex form of an info-hash, as the JSON API takes it.
func hexHash(h [20]byte) string { return hex.EncodeToString(h[:]) }
