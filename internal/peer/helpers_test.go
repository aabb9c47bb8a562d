package peer

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer/peertest"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
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
	return peertest.Torrent(t, size, pieceLength)
}

// testConfig is a session config for tests: loopback, a fast choker, the test's logger.
func testConfig(t testing.TB, meta *metainfo.MetaInfo, path string) Config {
	cfg := DefaultConfig()
	cfg.Torrent = meta
	cfg.Path = path
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.ChokeInterval = time.Second
	cfg.Logger = testLogger(t)
	cfg.checkInvariants = true // the core's records are checked after every event
	// Every test peer is on 127.0.0.1: no per-address share (the admission tests set their own).
	cfg.MaxPeersPerIP, cfg.MaxHalfOpenPerIP = cfg.MaxPeers, cfg.MaxHalfOpen
	return cfg
}

// running is a session started by startSession (peertest runs it).
type running struct {
	*Session
	*peertest.Running
}

// stop cancels the session and returns Run's result.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	err := r.Stop()
	if errors.Is(err, peertest.ErrNotStopped) {
		t.Fatal(err)
	}
	return err
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
	return &running{Session: s, Running: peertest.Run(t, s)}
}

// waitDone waits for the session's verified file.
func waitDone(t testing.TB, r *running) {
	t.Helper()
	r.WaitDone(t, testTimeout, func() any { return r.Stats() })
}

// assertSameFile fails unless the files at a and b hold the same bytes.
func assertSameFile(t testing.TB, a, b string) {
	t.Helper()
	peertest.SameFile(t, a, b)
}

// testTracker is the in-process tracker of these tests, announcing every second; restart
// serves a fresh one (an empty registry) on the same port.
type testTracker struct {
	t  testing.TB
	tr *trackertest.Tracker
}

func startTracker(t testing.TB) *testTracker {
	t.Helper()
	return &testTracker{t: t, tr: trackertest.Start(t, trackertest.WithHeartbeat(time.Second))}
}

func (tt *testTracker) url() string { return tt.tr.URL }

// shutdown stops the tracker.
func (tt *testTracker) shutdown() { tt.tr.Close() }

// restart serves a fresh tracker on the stopped one's port.
func (tt *testTracker) restart() {
	tt.t.Helper()
	addr := strings.TrimPrefix(tt.tr.URL, "http://")
	tt.tr = trackertest.Start(tt.t, trackertest.WithHeartbeat(time.Second), trackertest.At(addr))
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
