package peer

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// A download whose file does not have Config.WantSHA256 never calls itself complete: no Done, no
// "completed" announce, left > 0 in its announces, the file left as .part, and Run returns the
// mismatch.
func TestWrongSHA256NeverCompletes(t *testing.T) {
	src, meta := testTorrent(t, 600<<10, 64<<10)
	tt := startTracker(t)
	startSeeder(t, meta, src, tt.url())

	cfg := leecherConfig(t, meta, t.TempDir(), tt.url())
	cfg.ExitOnComplete = true
	cfg.WantSHA256 = strings.Repeat("ab", sha256.Size)
	r := startSession(t, cfg)
	runErr, ended := r.Wait(testTimeout)
	if !ended {
		t.Fatal("the session neither failed nor ended")
	}
	if runErr == nil || !strings.Contains(runErr.Error(), "SHA-256") || !strings.Contains(runErr.Error(), cfg.WantSHA256) {
		t.Fatalf("Run = %v, want the SHA-256 mismatch", runErr)
	}
	select {
	case <-r.Done():
		t.Fatal("Done closed although the file has another SHA-256")
	default:
	}
	if _, _, left := r.announceTotals(); left <= 0 {
		t.Errorf("announces say left=%d with every piece verified but the file unchecked, want > 0", left)
	}
	if _, err := os.Stat(cfg.Path); !os.IsNotExist(err) {
		t.Errorf("the mismatching file is under its final name (%v)", err)
	}
	if _, err := os.Stat(cfg.Path + partSuffix); err != nil {
		t.Errorf("the .part file is gone: %v", err)
	}
	infoHash := meta.InfoHashV1()
	if sw, ok := tt.tr.Server.Swarm(hex.EncodeToString(infoHash[:])); !ok || sw.Completed != 0 {
		t.Errorf("tracker swarm %+v: want no \"completed\" event", sw.SwarmSummary)
	}
}

// The right SHA-256 (in either case) lets the download complete as usual.
func TestRightSHA256Completes(t *testing.T) {
	src, meta := testTorrent(t, 600<<10, 64<<10)
	tt := startTracker(t)
	startSeeder(t, meta, src, tt.url())
	content, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	cfg := leecherConfig(t, meta, t.TempDir(), tt.url())
	cfg.WantSHA256 = strings.ToUpper(hex.EncodeToString(sum[:]))
	r := startSession(t, cfg)
	waitDone(t, r)
	assertSameFile(t, src, cfg.Path)
}
