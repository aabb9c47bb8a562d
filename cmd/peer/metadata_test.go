package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer/peertest"
	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// countingTracker is a second front of the tracker tr that counts the GETs of stored torrents:
// the leecher talks to it, the seeders to tr itself.
func countingTracker(t *testing.T, tr *trackertest.Tracker) (string, *atomic.Int32) {
	t.Helper()
	var torrentGets atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, api.TorrentPathPrefix) {
			torrentGets.Add(1)
		}
		tr.Server.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front.URL, &torrentGets
}

// payload writes the directory "model": a file of 49 pieces of 64 KiB (its piece layer takes
// one hash request), a small one, an empty one.
func payload(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	for i, size := range []int64{3<<20 + 77, 1000, 0} {
		path := filepath.Join(dir, "part", "f"+strconv.Itoa(i)+".bin")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := generate.WriteFile(path, uint64(i+1), size); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sameTree fails unless every file of want is in got with the same bytes.
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	err := filepath.WalkDir(want, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(want, path)
		if err == nil {
			peertest.SameFile(t, path, filepath.Join(got, rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startSeed runs `peer seed` of dir under swarm until the test ends.
func startSeed(t *testing.T, trackerURL, swarm, dir string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runSeed(ctx, []string{"--file", dir, "--tracker", trackerURL, "--swarm", swarm,
			"--listen", "127.0.0.1:0", "--metrics-addr", "", "--piece-size", "64KiB", "--log-level", "warn"})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("seeder: %v", err)
		}
	})
}

// waitSeeders waits until the tracker lists n seeders of swarm.
func waitSeeders(t *testing.T, tc *client.Client, swarm string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err := tc.Swarm(context.Background(), swarm)
		if err == nil && s.Seeders >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tracker lists %+v, %v; want %d seeders", s.SwarmSummary, err, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runGetTo runs `peer get` of swarm into dir until it completes (within a wide deadline).
func runGetTo(trackerURL, swarm, dir string, extra ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	args := append([]string{"--tracker", trackerURL, "--swarm", swarm, "--dir", dir, "--exit-on-complete",
		"--listen", "127.0.0.1:0", "--metrics-addr", "", "--timeout", "2s", "--log-level", "warn"}, extra...)
	return runGet(ctx, args)
}

// A leecher gets a multi-file torrent's info dict and piece layers from two seeders and never
// asks the tracker for the torrent.
func TestGetFetchesTheTorrentFromPeers(t *testing.T) {
	tr := trackertest.Start(t)
	front, torrentGets := countingTracker(t, tr)
	src := payload(t)
	startSeed(t, tr.URL, "model", src)
	startSeed(t, tr.URL, "model", src)
	waitSeeders(t, tr.Client, "model", 2)

	out := t.TempDir()
	if err := runGetTo(front, "model", out); err != nil {
		t.Fatalf("get: %v", err)
	}
	sameTree(t, src, filepath.Join(out, "model"))
	if n := torrentGets.Load(); n != 0 {
		t.Fatalf("the leecher fetched the torrent from the tracker %d times", n)
	}
}

// When no peer gives the torrent within --metadata-timeout (the only peer listed accepts and
// never answers), get falls back to the tracker's .torrent.
func TestGetFallsBackToTheTracker(t *testing.T) {
	tr := trackertest.Start(t)
	front, torrentGets := countingTracker(t, tr)
	src := payload(t)
	meta, err := metainfo.Create(src, metainfo.CreateOptions{PieceLength: 64 << 10, Announce: tr.AnnounceURL()})
	if err != nil {
		t.Fatal(err)
	}
	torrent, err := meta.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Client.PublishTorrent(context.Background(), "model", torrent); err != nil {
		t.Fatal(err)
	}
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() { // accepts and never answers
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	port := silent.Addr().(*net.TCPAddr).Port
	_, err = tr.Client.Announce(context.Background(), client.AnnounceRequest{InfoHash: meta.InfoHashV1(),
		PeerID: [20]byte{'s', 'i', 'l', 'e', 'n', 't'}, Port: port, Event: "started"})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	getDone := make(chan error, 1)
	go func() { getDone <- runGetTo(front, "model", out, "--metadata-timeout", "2s") }()
	// The real seeder comes only once the leecher asked the tracker for the torrent.
	for deadline := time.Now().Add(60 * time.Second); torrentGets.Load() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the leecher never fell back to the tracker")
		}
	}
	startSeed(t, tr.URL, "model", src)
	if err := <-getDone; err != nil {
		t.Fatalf("get: %v", err)
	}
	sameTree(t, src, filepath.Join(out, "model"))
}
