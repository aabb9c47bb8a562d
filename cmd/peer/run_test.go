package main

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// A seeder started before its tracker answers (a Service not resolvable yet, a tracker pod
// being replaced) keeps trying to publish, and the swarm's torrent appears once the tracker runs.
func TestSeederPublishesOnceTheTrackerAppears(t *testing.T) {
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	trackerAddr := ln.Addr().String()
	_ = ln.Close() // nothing listens there until the tracker starts below

	file := filepath.Join(t.TempDir(), "seed.bin")
	if err := generate.WriteFile(file, 7, 1<<20); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seedErr := make(chan error, 1)
	go func() {
		seedErr <- runSeed(ctx, []string{"--file", file, "--tracker", "http://" + trackerAddr,
			"--swarm", "late", "--listen", "127.0.0.1:0", "--metrics-addr", "", "--piece-size", "64KiB"})
	}()

	tc := client.NewClient("http://" + trackerAddr)
	if _, err := tc.FetchTorrent(ctx, "late"); err == nil {
		t.Fatal("a torrent was fetched before any tracker ran")
	}
	// Longer than the note's 3 attempts (1 s, 2 s waits, jittered) take: a seeder that gave up
	// after them would have returned by now.
	time.Sleep(4500 * time.Millisecond)
	select {
	case err := <-seedErr:
		t.Fatalf("the seeder gave up while the tracker was away: %v", err)
	default:
	}

	trackertest.Start(t, trackertest.At(trackerAddr))

	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := tc.FetchTorrent(ctx, "late")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the seeder never published: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-seedErr; err != nil {
		t.Fatalf("seeder: %v", err)
	}
}
