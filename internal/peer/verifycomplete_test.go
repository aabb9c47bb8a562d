package peer

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// A download whose whole-file check fails never calls itself complete: no Done, no "completed"
// announce, left > 0 in its announces, the file left as .part, and Run returns the check's error.
func TestFailedVerifyCompleteNeverCompletes(t *testing.T) {
	src, meta := testTorrent(t, 600<<10, 64<<10)
	tt := startTracker(t)
	startSeeder(t, meta, src, tt.url())

	errWrong := errors.New("sha256 differs")
	var leecher atomic.Pointer[Session]
	var leftAtCheck atomic.Int64
	cfg := leecherConfig(t, meta, t.TempDir(), tt.url())
	cfg.ExitOnComplete = true
	cfg.VerifyComplete = func(path string) error {
		if !strings.HasSuffix(path, partSuffix) {
			t.Errorf("VerifyComplete got %s, want the .part file", path)
		}
		_, _, left := leecher.Load().announceTotals()
		leftAtCheck.Store(left)
		return errWrong
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	leecher.Store(s)
	r := runSession(t, s)
	var runErr error
	waitFor(t, "the session to end", func() bool {
		select {
		case runErr = <-r.errc:
			r.errc <- runErr
			return true
		default:
			return false
		}
	})
	if !errors.Is(runErr, errWrong) {
		t.Fatalf("Run = %v, want the check's error", runErr)
	}
	select {
	case <-s.Done():
		t.Fatal("Done closed although the check failed")
	default:
	}
	if leftAtCheck.Load() <= 0 {
		t.Errorf("announces said left=%d during the check, want > 0", leftAtCheck.Load())
	}
	if _, err := os.Stat(cfg.Path); !os.IsNotExist(err) {
		t.Errorf("the unchecked file is under its final name (%v)", err)
	}
	infoHash := meta.InfoHashV1()
	if sw, ok := tt.tr.Swarm(hex.EncodeToString(infoHash[:])); !ok || sw.Completed != 0 {
		t.Errorf("tracker swarm %+v: want no \"completed\" event", sw.SwarmSummary)
	}
}

// A passing check sees the complete .part file; the download then completes as usual.
func TestPassingVerifyCompleteCompletes(t *testing.T) {
	src, meta := testTorrent(t, 600<<10, 64<<10)
	tt := startTracker(t)
	startSeeder(t, meta, src, tt.url())
	cfg := leecherConfig(t, meta, t.TempDir(), tt.url())
	var checked atomic.Bool
	cfg.VerifyComplete = func(path string) error {
		got, err := os.ReadFile(path)
		want, _ := os.ReadFile(src)
		if err != nil || string(got) != string(want) || filepath.Base(path) != meta.Info.Name+partSuffix {
			t.Errorf("VerifyComplete(%s): %d bytes, %v; want the whole file", path, len(got), err)
		}
		checked.Store(true)
		return nil
	}
	r := startSession(t, cfg)
	waitDone(t, r)
	if !checked.Load() {
		t.Fatal("VerifyComplete was not called")
	}
	assertSameFile(t, src, cfg.Path)
}
