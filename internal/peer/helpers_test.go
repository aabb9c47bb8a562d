package peer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/tracker"
)

// testTimeout bounds every wait of the swarm tests: generous, for a busy 2-core machine.
const testTimeout = 60 * time.Second

// testLogger logs warnings and errors of the sessions to stderr when -v is set.
func testLogger(t testing.TB) *slog.Logger {
	t.Helper()
	var w io.Writer
	w = io.Discard
	if testing.Verbose() {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testTorrent writes a deterministic file of size bytes in a fresh directory and returns its
// path and torrent (pieces of pieceLength bytes).
func testTorrent(t testing.TB, size, pieceLength int64) (string, *metainfo.MetaInfo) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.bin")
	if err := generate.WriteFile(path, 7, size); err != nil {
		t.Fatal(err)
	}
	meta, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: pieceLength})
	if err != nil {
		t.Fatal(err)
	}
	return path, meta
}

// testConfig is a session config for tests: loopback, a fast choker, the test's logger.
func testConfig(t testing.TB, meta *metainfo.MetaInfo, path string) Config {
	cfg := DefaultConfig()
	cfg.Torrent = meta
	cfg.Path = path
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.ChokeInterval = time.Second
	cfg.Logger = testLogger(t)
	// Every test peer is on 127.0.0.1: no per-address share (the admission tests set their own).
	cfg.MaxPeersPerIP, cfg.MaxHalfOpenPerIP = cfg.MaxPeers, cfg.MaxHalfOpen
	return cfg
}

// running is a session started by startSession.
type running struct {
	*Session
	cancel context.CancelFunc
	errc   chan error // Run's result
}

// stop cancels the session and waits for Run to return.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.errc:
		r.errc <- err
		return err
	case <-time.After(testTimeout):
		t.Fatal("session did not stop")
		return nil
	}
}

// startSession creates and runs a session; it is stopped when the test ends.
func startSession(t testing.TB, cfg Config) *running {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return runSession(t, s)
}

func runSession(t testing.TB, s *Session) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Session: s, cancel: cancel, errc: make(chan error, 1)}
	go func() { r.errc <- s.Run(ctx) }()
	t.Cleanup(func() { _ = r.stop(t) })
	return r
}

// waitDone waits for the session's verified file.
func waitDone(t testing.TB, r *running) {
	t.Helper()
	select {
	case <-r.Done():
	case err := <-r.errc:
		r.errc <- err
		t.Fatalf("session ended before completing: %v", err)
	case <-time.After(testTimeout):
		t.Fatalf("session did not complete: %+v", r.Stats())
	}
}

// assertSameFile fails unless the files at a and b hold the same bytes.
func assertSameFile(t testing.TB, a, b string) {
	t.Helper()
	da, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(da, db) {
		t.Fatalf("%s differs from %s", b, a)
	}
}

// testTracker is an in-process tracker on a loopback port that can be stopped and restarted
// on the same port.
type testTracker struct {
	t    testing.TB
	addr string
	srv  *http.Server
	tr   *tracker.Server
	stop context.CancelFunc
}

func startTracker(t testing.TB) *testTracker {
	t.Helper()
	tt := &testTracker{t: t, addr: "127.0.0.1:0"}
	tt.start()
	t.Cleanup(tt.shutdown)
	return tt
}

func (tt *testTracker) url() string { return "http://" + tt.addr }

// start serves a fresh tracker (an empty registry) on tt.addr.
func (tt *testTracker) start() {
	tt.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port of a stopped tracker may take a moment to be free
		if ln, err = net.Listen("tcp", tt.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		tt.t.Fatal(err)
	}
	tt.addr = ln.Addr().String()
	tt.tr = tracker.NewServer(tracker.Config{Interval: time.Second, MinInterval: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	tt.stop = cancel
	go func() { _ = tt.tr.Run(ctx) }()
	tt.srv = &http.Server{Handler: tt.tr, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = tt.srv.Serve(ln) }()
}

func (tt *testTracker) shutdown() {
	if tt.srv == nil {
		return
	}
	tt.stop()
	_ = tt.srv.Close()
	tt.srv = nil
}

// seedAndLeechers starts a seeder of a fresh file and n leechers, all on the tracker.
func startSeeder(t testing.TB, meta *metainfo.MetaInfo, path, trackerURL string) *running {
	t.Helper()
	cfg := testConfig(t, meta, path)
	cfg.Seed, cfg.Trusted = true, true
	cfg.TrackerURL = trackerURL
	return startSession(t, cfg)
}

// leecherConfig is the config of a leecher downloading into dir.
func leecherConfig(t testing.TB, meta *metainfo.MetaInfo, dir, trackerURL string, peers ...netip.AddrPort) Config {
	cfg := testConfig(t, meta, filepath.Join(dir, meta.Info.Name))
	cfg.TrackerURL = trackerURL
	cfg.Peers = peers
	return cfg
}

// isClosed reports whether err is a closed connection.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded)
}

// waitFor polls cond (a reading of a session's state, not a timing assumption) until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
