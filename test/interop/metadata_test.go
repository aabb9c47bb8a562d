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
// (BEP 9 over BEP 10), then the file. The info dict it received must be MiniBit's, byte for
// byte, and so must the file.
func TestLibtorrentFetchesTheTorrentFromMiniBit(t *testing.T) {
	trackerURL := startTracker(t)
	content := writeContent(t, t.TempDir(), "content.bin", fileSize)
	meta := writeTorrent(t, content, pieceLength, trackerURL, filepath.Join(t.TempDir(), "content.torrent"))
	startSession(t, peer.Config{
		Config: core.Config{Torrent: meta}, Path: content, Seed: true, Trusted: true, TrackerURL: trackerURL,
	}, "minibit-seeder")
	infoHash := meta.InfoHashV1()
	waitSeeders(t, trackerURL, infoHash, 1)

	saveDir, infoOut := t.TempDir(), filepath.Join(t.TempDir(), "info.bin")
	lt := startScript(t, "libtorrent_magnet.py", "--info-hash", hex.EncodeToString(infoHash[:]),
		"--announce", trackerURL+"/announce", "--save", saveDir, "--info-out", infoOut)
	lt.wait()

	got, err := os.ReadFile(infoOut)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, meta.InfoBytes()) {
		t.Fatalf("libtorrent received an info dict of %d bytes, not MiniBit's %d", len(got), len(meta.InfoBytes()))
	}
	assertSameFile(t, content, filepath.Join(saveDir, meta.Info.Name))
}
