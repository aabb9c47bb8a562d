package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/tracker/client"
)

// TestLibtorrentDownloadsFromMiniBit: a MiniBit seeder announces to the MiniBit tracker; a
// libtorrent leecher, given MiniBit's .torrent, finds the seeder through the tracker,
// downloads the file and checks every piece; the bytes must be the seeder's.
func TestLibtorrentDownloadsFromMiniBit(t *testing.T) {
	trackerURL := startTracker(t)
	content := writeContent(t, t.TempDir(), "content.bin", fileSize)
	torrentPath := filepath.Join(t.TempDir(), "content.torrent")
	meta := writeTorrent(t, content, pieceLength, trackerURL, torrentPath)
	seeder := startSession(t, peer.Config{
		Config: core.Config{Torrent: meta}, Path: content, Seed: true, Trusted: true, TrackerURL: trackerURL,
	}, "minibit-seeder")
	waitSeeders(t, trackerURL, meta.InfoHashV1(), 1)

	saveDir := t.TempDir()
	lt := startLibtorrent(t, "leech", "--torrent", torrentPath, "--save", saveDir)
	lt.wait()

	assertSameFile(t, content, filepath.Join(saveDir, meta.Info.Name))
	if up := seeder.Stats().BytesUploaded; up < meta.Info.Length {
		t.Errorf("the MiniBit seeder uploaded %d bytes, less than the file's %d", up, meta.Info.Length)
	}
}

// TestMiniBitDownloadsFromLibtorrent: libtorrent seeds a file, announcing to the MiniBit
// tracker; a MiniBit leecher finds it through the tracker and downloads the file. The torrent
// is MiniBit's, or libtorrent's own hybrid one.
func TestMiniBitDownloadsFromLibtorrent(t *testing.T) {
	for _, maker := range []string{"minibit", "libtorrent"} {
		t.Run(maker+"-torrent", func(t *testing.T) {
			trackerURL := startTracker(t)
			seedDir := t.TempDir()
			content := writeContent(t, seedDir, "content.bin", fileSize)
			torrentPath := filepath.Join(t.TempDir(), "content.torrent")
			args := []string{"seed", "--torrent", torrentPath, "--save", seedDir}
			if maker == "minibit" {
				writeTorrent(t, content, pieceLength, trackerURL, torrentPath)
			} else {
				args = append(args, "--create", content, "--piece-length", fmt.Sprint(pieceLength),
					"--announce", trackerURL+"/announce")
			}
			lt := startLibtorrent(t, args...)
			port := lt.waitSeeding()
			meta, err := metainfo.Load(torrentPath)
			if err != nil {
				t.Fatalf("loading the %s torrent: %v", maker, err)
			}
			t.Logf("libtorrent seeds on 127.0.0.1:%d", port)
			waitSeeders(t, trackerURL, meta.InfoHashV1(), 1)

			leechDir := t.TempDir()
			leecher := startSession(t, peer.Config{
				Config: core.Config{Torrent: meta}, Path: filepath.Join(leechDir, meta.Info.Name), TrackerURL: trackerURL,
			}, "minibit-leecher")
			waitComplete(t, leecher)
			assertSameFile(t, content, filepath.Join(leechDir, meta.Info.Name))
			if st := leecher.Stats(); st.HashFailures != 0 {
				t.Errorf("%d pieces from libtorrent failed verification", st.HashFailures)
			}
		})
	}
}

// TestMixedSwarm: a MiniBit seeder capped at 1 MiB/s, a libtorrent leecher and a MiniBit
// leecher, all on the MiniBit tracker. The seeder alone would have to upload the file twice;
// the cap makes the two leechers trade pieces (have, bitfield, requests between two partial
// peers of different clients). Both must end with the seeder's bytes.
func TestMixedSwarm(t *testing.T) {
	trackerURL := startTracker(t)
	content := writeContent(t, t.TempDir(), "content.bin", fileSize)
	torrentPath := filepath.Join(t.TempDir(), "content.torrent")
	meta := writeTorrent(t, content, pieceLength, trackerURL, torrentPath)
	seeder := startSession(t, peer.Config{
		Config: core.Config{Torrent: meta}, Path: content, Seed: true, Trusted: true, TrackerURL: trackerURL,
		UploadRate: 1 << 20,
	}, "minibit-seeder")
	waitSeeders(t, trackerURL, meta.InfoHashV1(), 1)

	ltDir, mbDir := t.TempDir(), t.TempDir()
	lt := startLibtorrent(t, "leech", "--torrent", torrentPath, "--save", ltDir)
	leecher := startSession(t, peer.Config{
		Config: core.Config{Torrent: meta}, Path: filepath.Join(mbDir, meta.Info.Name), TrackerURL: trackerURL,
	}, "minibit-leecher")
	lt.wait()
	waitComplete(t, leecher)
	assertSameFile(t, content, filepath.Join(ltDir, meta.Info.Name))
	assertSameFile(t, content, filepath.Join(mbDir, meta.Info.Name))
	fromSeeder, st := seeder.Stats().BytesUploaded, leecher.Stats()
	t.Logf("seeder uploaded %d bytes; MiniBit leecher downloaded %d, uploaded %d (file %d)",
		fromSeeder, st.BytesDownloaded, st.BytesUploaded, meta.Info.Length)
	if fromSeeder >= 2*meta.Info.Length {
		t.Errorf("the seeder uploaded %d bytes, two whole copies: the leechers traded nothing", fromSeeder)
	}
	if st.HashFailures != 0 {
		t.Errorf("%d pieces failed verification at the MiniBit leecher", st.HashFailures)
	}
}

// TestKeepAliveWithLibtorrent: a MiniBit leecher and a libtorrent leecher with no seeder stay
// connected while nothing else passes between them, each dropping a peer silent for 5 s and
// sending keep-alives (MiniBit after 1 s without sending, libtorrent after 2 s), for three
// timeouts; then a MiniBit seeder comes and both
// complete. Each side must accept the other's keep-alives: no disconnection before the seeder.
func TestKeepAliveWithLibtorrent(t *testing.T) {
	const peerTimeout = 5 * time.Second
	trackerURL := startTracker(t)
	content := writeContent(t, t.TempDir(), "content.bin", fileSize)
	torrentPath := filepath.Join(t.TempDir(), "content.torrent")
	meta := writeTorrent(t, content, pieceLength, trackerURL, torrentPath)

	ltDir, mbDir := t.TempDir(), t.TempDir()
	lt := startLibtorrent(t, "leech", "--torrent", torrentPath, "--save", ltDir,
		"--peer-timeout", fmt.Sprint(peerTimeout.Seconds()))
	waitPeers(t, trackerURL, meta.InfoHashV1(), 1) // libtorrent announced
	logger, disconnects := countMessages(t, "minibit-leecher", "Peer disconnected")
	leecher := startSession(t, peer.Config{
		Config: core.Config{Torrent: meta}, Path: filepath.Join(mbDir, meta.Info.Name), TrackerURL: trackerURL,
		IdleTimeout: peerTimeout, KeepAliveInterval: 2 * time.Second, Logger: logger,
	}, "minibit-leecher")
	waitConnected(t, leecher, 1)
	time.Sleep(3 * peerTimeout) // only keep-alives pass: nothing to trade yet
	if n := disconnects.Load(); n != 0 || leecher.Stats().PeersConnected != 1 {
		t.Fatalf("idle connection to libtorrent dropped (%d disconnections, %d peers connected)",
			n, leecher.Stats().PeersConnected)
	}

	startSession(t, peer.Config{
		Config: core.Config{Torrent: meta}, Path: content, Seed: true, Trusted: true, TrackerURL: trackerURL,
	}, "minibit-seeder")
	lt.wait()
	waitComplete(t, leecher)
	assertSameFile(t, content, filepath.Join(ltDir, meta.Info.Name))
	assertSameFile(t, content, filepath.Join(mbDir, meta.Info.Name))
}

// TestLibtorrentDownloadsOverV2Handshake: libtorrent learns of the MiniBit seeder only in the
// swarm of the truncated v2 info-hash (the test announces the seeder there; MiniBit itself
// announces the v1 hash), so it connects with the v2 handshake of a hybrid torrent (BEP 52),
// which MiniBit must accept and answer in kind; the download must then complete as over v1.
func TestLibtorrentDownloadsOverV2Handshake(t *testing.T) {
	trackerURL := startTracker(t)
	content := writeContent(t, t.TempDir(), "content.bin", fileSize)
	torrentPath := filepath.Join(t.TempDir(), "content.torrent")
	meta := writeTorrent(t, content, pieceLength, trackerURL, torrentPath)
	seeder := startSession(t, peer.Config{Config: core.Config{Torrent: meta}, Path: content, Seed: true, Trusted: true},
		"minibit-seeder") // no tracker: only the v2 announce below tells of it
	var v2Short [20]byte
	v2 := meta.InfoHashV2()
	copy(v2Short[:], v2[:])
	_, err := client.NewClient(trackerURL).Announce(context.Background(), client.AnnounceRequest{
		InfoHash: v2Short, PeerID: seeder.PeerID(), Port: int(seeder.Addr().Port()), Event: "started",
	})
	if err != nil {
		t.Fatal(err)
	}

	saveDir := t.TempDir()
	lt := startLibtorrent(t, "leech", "--torrent", torrentPath, "--save", saveDir)
	lt.wait()
	assertSameFile(t, content, filepath.Join(saveDir, meta.Info.Name))
	if up := seeder.Stats().BytesUploaded; up < meta.Info.Length {
		t.Errorf("the MiniBit seeder uploaded %d bytes, less than the file's %d", up, meta.Info.Length)
	}
}
