package interop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/peer/peertest"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

const (
	// python is Debian's interpreter, for which python3-libtorrent is installed (the python3 on
	// PATH may be another one without it).
	python = "/usr/bin/python3"
	// scriptTimeout is the libtorrent script's own deadline (its --timeout).
	scriptTimeout = 90 * time.Second
	// testTimeout bounds every wait of a test: the script's deadline and some slack.
	testTimeout = scriptTimeout + 30*time.Second
	// fileSize and pieceLength keep each test to seconds: 4 MiB + 5 bytes (a short last piece)
	// in pieces of 32 KiB.
	fileSize    = 4<<20 + 5
	pieceLength = 32 << 10
	// installHint is the remedy for a machine without libtorrent's Python module.
	installHint = "`make test-deps` installs python3-libtorrent (or `apt-get install python3-libtorrent`)"
)

// sessionLogger logs a MiniBit session at debug level to the test's output (shown with -v or
// when the test fails).
func sessionLogger(t testing.TB, role string) *slog.Logger {
	h := slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(h).With("role", role)
}

// countingHandler passes records on to next and counts those whose message is msg (a session's
// "Peer disconnected", say), in every logger derived from it.
type countingHandler struct {
	next  slog.Handler
	msg   string
	count *atomic.Int64
}

// countMessages returns a logger that writes to the test's output like sessionLogger and the
// counter of its records with message msg.
func countMessages(t testing.TB, role, msg string) (*slog.Logger, *atomic.Int64) {
	h := countingHandler{next: sessionLogger(t, role).Handler(), msg: msg, count: new(atomic.Int64)}
	return slog.New(h), h.count
}

func (h countingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.count.Add(1)
	}
	return h.next.Handle(ctx, r)
}

func (h countingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h.next = h.next.WithAttrs(attrs)
	return h
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	h.next = h.next.WithGroup(name)
	return h
}

// startTracker serves an in-process MiniBit tracker on a loopback port (trackertest listens on
// 127.0.0.1) and returns its base URL. Its heartbeat is 1 s so MiniBit peers learn of
// libtorrent quickly.
func startTracker(t testing.TB) string {
	t.Helper()
	return trackertest.Start(t, trackertest.WithHeartbeat(time.Second), trackertest.WithLogger(sessionLogger(t, "tracker"))).URL
}

// writeContent writes size bytes of deterministic content to dir/name and returns its path.
func writeContent(t testing.TB, dir, name string, size int64) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := generate.WriteFile(path, 9, size); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeTorrent makes MiniBit's hybrid torrent of the file at path in pieces of pieceLength,
// announcing to the tracker at trackerURL, and writes it to out.
func writeTorrent(t testing.TB, path string, pieceLength int64, trackerURL, out string) *metainfo.MetaInfo {
	t.Helper()
	meta, err := metainfo.Create(path, metainfo.CreateOptions{
		PieceLength: pieceLength, Announce: trackerURL + "/announce",
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := meta.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return meta
}

// startSession creates and runs a MiniBit session on 127.0.0.1; the test's end stops it, and a
// session that failed fails the test.
func startSession(t testing.TB, cfg peer.Config, role string) *peer.Session {
	t.Helper()
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	cfg.ChokeInterval = time.Second
	if cfg.Logger == nil {
		cfg.Logger = sessionLogger(t, role)
	}
	s, err := peer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := peertest.Run(t, s)
	t.Cleanup(func() {
		if err := r.Stop(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s session: %v", role, err)
		}
	})
	return s
}

// waitComplete waits until the MiniBit leecher s has its verified file, at most testTimeout.
func waitComplete(t testing.TB, s *peer.Session) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(testTimeout):
		t.Fatalf("the MiniBit leecher did not complete: %+v", s.Stats())
	}
}

// waitSeeders waits until the tracker counts at least n seeders of the swarm.
func waitSeeders(t testing.TB, trackerURL string, infoHash [20]byte, n int) {
	t.Helper()
	waitTracker(t, trackerURL, infoHash, fmt.Sprintf("%d seeders", n), func(st client.ScrapeStats) bool {
		return st.Complete >= n
	})
}

// waitPeers waits until the tracker counts at least n peers (seeders or leechers) of the swarm.
func waitPeers(t testing.TB, trackerURL string, infoHash [20]byte, n int) {
	t.Helper()
	waitTracker(t, trackerURL, infoHash, fmt.Sprintf("%d peers", n), func(st client.ScrapeStats) bool {
		return st.Complete+st.Incomplete >= n
	})
}

// waitTracker scrapes the tracker until the swarm's counts satisfy ok.
func waitTracker(t testing.TB, trackerURL string, infoHash [20]byte, what string, ok func(client.ScrapeStats) bool) {
	t.Helper()
	c := client.NewClient(trackerURL)
	deadline := time.Now().Add(testTimeout)
	for {
		stats, err := c.Scrape(context.Background(), infoHash)
		if err == nil && ok(stats[infoHash]) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tracker never counted %s (last scrape %v, %v)", what, stats, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitConnected waits until the session has at least n connections past the handshake.
func waitConnected(t testing.TB, s *peer.Session, n int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for s.Stats().PeersConnected < n {
		if time.Now().After(deadline) {
			t.Fatalf("never connected to %d peers: %+v", n, s.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// assertSameFile fails unless the files at want and got hold the same bytes.
func assertSameFile(t testing.TB, want, got string) {
	t.Helper()
	peertest.SameFile(t, want, got)
}

// lockedBuffer is an io.Writer safe for the goroutine exec copies stderr with and the test.
type lockedBuffer struct {
	mu  sync.Mutex // owns buf
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// libtorrent is one run of testdata/libtorrent_peer.py.
type libtorrent struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *lockedBuffer
	waited chan error // Wait's result, once
	cancel context.CancelFunc
}

// startLibtorrent starts the script with args (a mode and its flags; --timeout is added). The
// test's end kills it if it still runs and, on failure or with -v, logs its alerts.
func startLibtorrent(t testing.TB, args ...string) *libtorrent {
	t.Helper()
	return startScript(t, "libtorrent_peer.py", args...)
}

// startScript starts testdata's script name as startLibtorrent does.
func startScript(t testing.TB, name string, args ...string) *libtorrent {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("%s is missing: %s (%v)", python, installHint, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	args = append([]string{script}, append(args, "--timeout", fmt.Sprint(scriptTimeout.Seconds()))...)
	lt := &libtorrent{t: t, cmd: exec.CommandContext(ctx, python, args...), stderr: &lockedBuffer{},
		waited: make(chan error, 1), cancel: cancel}
	lt.cmd.Stderr = lt.stderr
	lt.cmd.WaitDelay = 5 * time.Second
	if lt.stdin, err = lt.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := lt.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	lt.stdout = bufio.NewReader(stdout)
	if err := lt.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v (%s)", python, err, installHint)
	}
	go func() { lt.waited <- lt.cmd.Wait() }()
	t.Cleanup(lt.stop)
	return lt
}

// stop closes the script's stdin (a seeder's signal to exit), waits for it (killing it after
// 10 s) and logs its stderr when the test failed or runs verbose.
func (lt *libtorrent) stop() {
	_ = lt.stdin.Close()
	var err error
	select {
	case err = <-lt.waited:
	case <-time.After(10 * time.Second):
		lt.cancel()
		err = <-lt.waited // within cmd.WaitDelay
	}
	if lt.t.Failed() || testing.Verbose() {
		lt.t.Logf("libtorrent exited (%v); its stderr:\n%s", err, lt.stderr.String())
	}
}

// wait waits for the script to exit and fails the test unless it exited 0.
func (lt *libtorrent) wait() {
	lt.t.Helper()
	err := <-lt.waited
	lt.waited <- err
	lt.checkExit(err)
}

// checkExit fails the test with the reason behind the script's exit status.
func (lt *libtorrent) checkExit(err error) {
	lt.t.Helper()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		lt.t.Fatalf("libtorrent's Python module is missing: %s\n%s", installHint, lt.stderr.String())
	case errors.As(err, &exit) && exit.ExitCode() == 2:
		lt.t.Fatalf("libtorrent timed out (%v)", err)
	default:
		lt.t.Fatalf("libtorrent failed: %v", err)
	}
}

// waitSeeding waits for the seeder's "seeding PORT" line and returns the port.
func (lt *libtorrent) waitSeeding() int {
	lt.t.Helper()
	type result struct {
		line string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		line, err := lt.stdout.ReadString('\n')
		got <- result{line, err}
	}()
	var r result
	select {
	case r = <-got:
	case <-time.After(testTimeout):
		lt.t.Fatal("libtorrent never said it seeds")
	}
	if r.err != nil {
		lt.wait() // it exited: say why
		lt.t.Fatalf("libtorrent exited before seeding: %v", r.err)
	}
	var port int
	if _, err := fmt.Sscanf(strings.TrimSpace(r.line), "seeding %d", &port); err != nil {
		lt.t.Fatalf("libtorrent printed %q, want \"seeding PORT\"", r.line)
	}
	return port
}
