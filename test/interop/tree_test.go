package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/peer/core"
)

// Multi-file torrents traded with libtorrent 2.0.8: a directory of files of many sizes (pad
// files between them), under MiniBit's torrent and under libtorrent's own (which pads the last
// file too).

// treeFiles is the interop directory: files of 0 to several pieces, two identical, nested.
var treeFiles = []struct {
	path string
	seed uint64
	size int64
}{
	{"model/shard-1.bin", 1, 1<<20 + 7},
	{"model/shard-2.bin", 1, 1<<20 + 7},
	{"model/config.json", 2, 700},
	{"tokenizer/vocab.txt", 3, 3*pieceLength + 1},
	{"README", 4, pieceLength},
	{"empty", 5, 0},
	{"z-last.bin", 6, 100_000},
}

// writeTreeContent writes treeFiles under dir/name and returns that directory.
func writeTreeContent(t testing.TB, dir, name string) string {
	t.Helper()
	top := filepath.Join(dir, name)
	for _, f := range treeFiles {
		path := filepath.Join(top, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := generate.WriteFile(path, f.seed, f.size); err != nil {
			t.Fatal(err)
		}
	}
	return top
}

// assertSameTree fails unless got holds every file of want's tree with the same bytes.
func assertSameTree(t testing.TB, want, got string) {
	t.Helper()
	for _, f := range treeFiles {
		assertSameFile(t, filepath.Join(want, filepath.FromSlash(f.path)), filepath.Join(got, filepath.FromSlash(f.path)))
	}
}

// libtorrentTreeTorrent has libtorrent make its own torrent of dir (the metainfo package's
// interop script), announcing to the tracker, written to out.
func libtorrentTreeTorrent(t testing.TB, dir, trackerURL, out string) *metainfo.MetaInfo {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "internal", "metainfo", "testdata", "libtorrent_create.py"))
	if err != nil {
		t.Fatal(err)
	}
	raw := out + ".raw"
	if b, err := exec.Command(python, script, dir, "32768", raw).CombinedOutput(); err != nil {
		t.Fatalf("libtorrent making a torrent of %s: %v\n%s\n(%s)", dir, err, b, installHint)
	}
	meta, err := metainfo.Load(raw)
	if err != nil {
		t.Fatalf("loading libtorrent's torrent: %v", err)
	}
	meta.Announce = trackerURL + "/announce"
	if data, err := meta.Encode(); err != nil || os.WriteFile(out, data, 0o644) != nil {
		t.Fatalf("writing libtorrent's torrent with our announce: %v", err)
	}
	return meta
}

// TestLibtorrentDownloadsTreeFromMiniBit: a MiniBit seeder of a directory; a libtorrent leecher
// given MiniBit's multi-file torrent downloads it, checking every piece (pads included).
func TestLibtorrentDownloadsTreeFromMiniBit(t *testing.T) {
	trackerURL := startTracker(t)
	content := writeTreeContent(t, t.TempDir(), "payload")
	torrentPath := filepath.Join(t.TempDir(), "payload.torrent")
	meta := writeTorrent(t, content, pieceLength, trackerURL, torrentPath) // Create of a directory
	seed := peer.Config{Config: core.Config{Torrent: meta}, Path: content, Seed: true, Trusted: true, TrackerURL: trackerURL}
	startSession(t, seed, "minibit-seeder")
	waitSeeders(t, trackerURL, meta.InfoHashV1(), 1)
	saveDir := t.TempDir()
	startLibtorrent(t, "leech", "--torrent", torrentPath, "--save", saveDir).wait()
	assertSameTree(t, content, filepath.Join(saveDir, meta.Info.Name))
}

// TestMiniBitDownloadsTreeFromLibtorrent: libtorrent seeds a directory under MiniBit's torrent
// or its own; a MiniBit leecher downloads the tree and verifies every piece.
func TestMiniBitDownloadsTreeFromLibtorrent(t *testing.T) {
	for _, maker := range []string{"minibit", "libtorrent"} {
		t.Run(maker+"-torrent", func(t *testing.T) {
			trackerURL := startTracker(t)
			seedDir := t.TempDir()
			content := writeTreeContent(t, seedDir, "payload")
			torrentPath := filepath.Join(t.TempDir(), "payload.torrent")
			meta := libtorrentTreeTorrent
			if maker == "minibit" {
				meta = func(t testing.TB, dir, trackerURL, out string) *metainfo.MetaInfo {
					return writeTorrent(t, dir, pieceLength, trackerURL, out)
				}
			}
			m := meta(t, content, trackerURL, torrentPath)
			t.Logf("libtorrent seeds on 127.0.0.1:%d", startLibtorrent(t, "seed", "--torrent", torrentPath, "--save", seedDir).waitSeeding())
			waitSeeders(t, trackerURL, m.InfoHashV1(), 1)

			got := filepath.Join(t.TempDir(), m.Info.Name)
			leecher := startSession(t, peer.Config{Config: core.Config{Torrent: m}, Path: got, TrackerURL: trackerURL}, "minibit-leecher")
			waitComplete(t, leecher)
			assertSameTree(t, content, got)
			if n := leecher.Stats().HashFailures; n != 0 {
				t.Errorf("%d pieces from libtorrent failed verification", n)
			}
		})
	}
}
