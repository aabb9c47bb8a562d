// Package peertest runs peer sessions in tests: it starts a session's Run, stops it when the
// test ends (failing the test if Run fails or does not return), and waits for its verified
// file. It is the one session runner of every suite (the peer's own tests, the attackers' suite,
// libtorrent interop, the dashboard's browser test). It does not import the peer package, so
// the peer's own white-box tests can use it too.
package peertest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
)

// StopTimeout bounds how long a stopped session may take to return from Run.
const StopTimeout = 30 * time.Second

// Session is what peertest runs: a *peer.Session.
type Session interface {
	Run(ctx context.Context) error
	Done() <-chan struct{}
}

// Running is a session whose Run is under way.
type Running struct {
	// Started is when Run was called.
	Started time.Time
	s       Session
	cancel  context.CancelFunc
	errc    chan error // Run's result, put back after each read
}

// Run calls s.Run until Stop or the end of the test; at the end, a session that does not stop
// fails the test (Run's own result is the test's to check: Stop, Wait).
func Run(t testing.TB, s Session) *Running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{Started: time.Now(), s: s, cancel: cancel, errc: make(chan error, 1)}
	go func() { r.errc <- s.Run(ctx) }()
	t.Cleanup(func() {
		if err := r.Stop(); errors.Is(err, ErrNotStopped) {
			t.Error(err)
		}
	})
	return r
}

// ErrNotStopped is returned by Stop when Run did not return in StopTimeout.
var ErrNotStopped = errors.New("peertest: the session did not stop")

// Stop cancels the session and returns Run's result (it may be called more than once).
func (r *Running) Stop() error {
	r.cancel()
	select {
	case err := <-r.errc:
		r.errc <- err
		return err
	case <-time.After(StopTimeout):
		return ErrNotStopped
	}
}

// Wait waits up to timeout for Run to return by itself (a failure, or the end of an
// ExitOnComplete session) and returns its result; ended is false if it still runs.
func (r *Running) Wait(timeout time.Duration) (err error, ended bool) {
	select {
	case err := <-r.errc:
		r.errc <- err
		return err, true
	case <-time.After(timeout):
		return nil, false
	}
}

// WaitDone waits up to timeout for the session's verified file and returns the time since
// Run started; it fails the test if Run ends first or the time runs out (describe, when not
// nil, says the session's state in the failure).
func (r *Running) WaitDone(t testing.TB, timeout time.Duration, describe func() any) time.Duration {
	t.Helper()
	select {
	case <-r.s.Done():
		return time.Since(r.Started)
	case err := <-r.errc:
		r.errc <- err
		t.Fatalf("session ended before completing: %v", err)
	case <-time.After(timeout):
		var state any
		if describe != nil {
			state = describe()
		}
		t.Fatalf("session did not complete in %v: %+v", timeout, state)
	}
	return 0
}

// SameFile fails the test unless the files at want and got hold the same bytes.
func SameFile(t testing.TB, want, got string) {
	t.Helper()
	a, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("%s differs from %s", got, want)
	}
}

// Torrent writes a deterministic file of size bytes (generate's seed 7) in a fresh directory
// and returns its path and torrent, with pieces of pieceLength bytes.
func Torrent(t testing.TB, size, pieceLength int64) (string, *metainfo.MetaInfo) {
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
