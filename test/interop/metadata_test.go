package interop

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/peer/core"
)

// TestLibtorrentFetchesTheTorrentFromMiniBit: libtorrent is given only the swarm's v1
// info-hash and the tracker (a magnet link); it fetches the info dict from the MiniBit seeder
// (BEP 9 over BEP 10), then the content, a file or a directory. The info dict it received must
// be MiniBit's, byte for byte, and so must the content.
func TestLibtorrentFetchesTheTorrentFromMiniBit(t *testing.T) {
	for _, kind := range []string{"file", "directory"} {
		t.Run(kind, func(t *testing.T) {
			trackerURL := startTracker(t)
			var content string
			if kind == "file" {
				content = writeContent(t, t.TempDir(), "content.bin", fileSize)
			} else {
				content = writeTreeContent(t, t.TempDir(), "payload")
			}
			meta := writeTorrent(t, content, pieceLength, trackerURL, filepath.Join(t.TempDir(), "content.torrent"))
			startSession(t, peer.Config{
				Config: core.Config{Torrent: meta}, Path: content, Seed: true, Trusted: true, TrackerURL: trackerURL,
			}, "minibit-seeder")
			infoHash := meta.InfoHashV1()
			waitSeeders(t, trackerURL, infoHash, 1)

			saveDir, infoOut := t.TempDir(), filepath.Join(t.TempDir(), "info.bin")
			startScript(t, "libtorrent_magnet.py", "--info-hash", hex.EncodeToString(infoHash[:]),
				"--announce", trackerURL+"/announce", "--save", saveDir, "--info-out", infoOut).wait()

			got, err := os.ReadFile(infoOut)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, meta.InfoBytes()) {
				t.Fatalf("libtorrent received an info dict of %d bytes, not MiniBit's %d", len(got), len(meta.InfoBytes()))
			}
			if kind == "file" {
				assertSameFile(t, content, filepath.Join(saveDir, meta.Info.Name))
			} else {
				assertSameTree(t, content, filepath.Join(saveDir, meta.Info.Name))
			}
		})
	}
}
