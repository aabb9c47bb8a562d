package peer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/minibit-io/minibit/internal/peer/peertest"
)

// A directory over real TCP: a seeder that verifies its tree at start and two leechers that
// finish with the same tree (nested directories, empty files, files shorter and longer than a
// piece, identical files), renamed into place from .part.
func TestTreeSwarmOverTCP(t *testing.T) {
	src, meta := peertest.Tree(t, "model", 16<<10)
	if !meta.MultiFile() {
		t.Fatal("the torrent of a directory is not multi-file")
	}
	tt := startTracker(t)
	seedCfg := testConfig(t, meta, src)
	seedCfg.Seed, seedCfg.TrackerURL = true, tt.url() // not trusted: the tree is verified
	startSession(t, seedCfg)

	var leechers []*running
	for range 2 {
		leechers = append(leechers, startSession(t, leecherConfig(t, meta, t.TempDir(), tt.url())))
	}
	for _, r := range leechers {
		waitDone(t, r)
		path := r.cfg.Path
		if filepath.Base(path) != "model" {
			t.Fatalf("the leecher's directory is %s", path)
		}
		if _, err := os.Stat(path + partSuffix); !os.IsNotExist(err) {
			t.Fatalf("%s.part is still there (%v)", path, err)
		}
		peertest.SameTree(t, src, path)
	}
	// A leecher restarted on its finished tree seeds it at once.
	cfg := leecherConfig(t, meta, filepath.Dir(leechers[0].cfg.Path), "")
	cfg.ListenAddr = "127.0.0.1:0"
	if err := leechers[0].stop(t); err != nil {
		t.Fatal(err)
	}
	again := startSession(t, cfg)
	waitDone(t, again)
	again.mu.Lock()
	have := again.core.HaveCount()
	again.mu.Unlock()
	if have != meta.NumPieces() {
		t.Fatalf("the restarted peer has %d of %d pieces", have, meta.NumPieces())
	}
}
