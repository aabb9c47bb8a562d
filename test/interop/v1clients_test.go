package interop

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/tracker"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// The v1 twin (peer seed|get --v1-twin, docs/v1-twin.md) with stock v1-only clients: aria2
// 1.36 and Transmission 3.00 download from a MiniBit seeder with the twin .torrent the tracker
// serves, and MiniBit downloads from them with the hybrid torrent, verifying every piece with
// SHA-256; a stock client that serves corrupt data over the twin is banned and never poisons
// the download. Every process listens on 127.0.0.x only and knows only MiniBit's tracker.

// payloadKinds are the payloads of each test: one file, and a directory tree.
var payloadKinds = []struct {
	name  string
	multi bool
}{{"single-file", false}, {"multi-file", true}}

// startRegisteredTracker is startTracker in registered-only mode: announces under the twin's
// info-hash are admitted because the twin was published.
func startRegisteredTracker(t testing.TB) string {
	t.Helper()
	return trackertest.Start(t, trackertest.WithConfig(tracker.Config{RegisteredOnly: true}),
		trackertest.WithHeartbeat(time.Second), trackertest.WithLogger(sessionLogger(t, "tracker"))).URL
}

// seedTwin starts a MiniBit seeder of a fresh payload with the v1 twin and publishes both
// torrents; it returns the payload's path, its torrent and the tracker's URL of the twin.
func seedTwin(t *testing.T, trackerURL string, multi bool) (string, *metainfo.MetaInfo, string) {
	t.Helper()
	content, meta := payload(t, t.TempDir(), multi, trackerURL)
	url := publish(t, trackerURL, "payload", meta)
	twinSession(t, meta, content, "127.0.0.1", trackerURL, true, "minibit-seeder")
	return content, meta, url
}

// TestV1ClientsDownloadFromMiniBitTwin: each stock client, given the tracker's URL of the twin,
// downloads the payload from a MiniBit seeder; the files must be the seeder's.
func TestV1ClientsDownloadFromMiniBitTwin(t *testing.T) {
	leechers := map[string]func(t *testing.T, dir, twinURL string){
		"aria2c": func(t *testing.T, dir, twinURL string) {
			startAria2(t, aria2Options{ip: "127.0.0.1", dir: dir, torrent: twinURL}).waitExit()
		},
		"transmission-cli": func(t *testing.T, dir, twinURL string) {
			startTransmission(t, "127.0.0.1", dir, twinURL).waitFinished()
		},
	}
	for name, leech := range leechers {
		for _, kind := range payloadKinds {
			t.Run(name+"/"+kind.name, func(t *testing.T) {
				requireTool(t, name)
				trackerURL := startRegisteredTracker(t)
				content, meta, twinURL := seedTwin(t, trackerURL, kind.multi)
				dir := t.TempDir()
				leech(t, dir, twinURL)
				assertSamePayload(t, meta, content, filepath.Join(dir, meta.Info.Name))
			})
		}
	}
}

// TestMiniBitDownloadsFromV1Clients: each stock client seeds the twin (the pad files of a
// directory included); a MiniBit leecher with the hybrid torrent and --v1-twin finds it in the
// twin's swarm, downloads and verifies every piece with SHA-256.
func TestMiniBitDownloadsFromV1Clients(t *testing.T) {
	seeders := map[string]func(t *testing.T, dir, twinTorrent string) *v1Client{
		"aria2c": func(t *testing.T, dir, twin string) *v1Client {
			return startAria2(t, aria2Options{ip: "127.0.0.1", dir: dir, torrent: twin, seed: true})
		},
		"transmission-cli": func(t *testing.T, dir, twin string) *v1Client {
			return startTransmission(t, "127.0.0.1", dir, twin)
		},
	}
	for name, start := range seeders {
		for _, kind := range payloadKinds {
			t.Run(name+"/"+kind.name, func(t *testing.T) {
				requireTool(t, name)
				trackerURL := startRegisteredTracker(t)
				seedDir := t.TempDir()
				content, meta := payload(t, seedDir, kind.multi, trackerURL)
				publish(t, trackerURL, "payload", meta)
				if meta.MultiFile() {
					writePads(t, meta, content)
				}
				twin, twinHash := writeTwin(t, meta)
				start(t, seedDir, twin)
				waitSeeders(t, trackerURL, twinHash, 1)

				leechDir := t.TempDir()
				leecher := twinSession(t, meta, filepath.Join(leechDir, meta.Info.Name), "127.0.0.1", trackerURL, false, "minibit-leecher")
				waitComplete(t, leecher)
				assertSamePayload(t, meta, content, filepath.Join(leechDir, meta.Info.Name))
				if st := leecher.Stats(); st.HashFailures != 0 || st.BytesDownloaded < meta.PayloadBytes() {
					t.Errorf("%d pieces from %s failed verification, %d bytes downloaded of %d", st.HashFailures, name,
						st.BytesDownloaded, meta.PayloadBytes())
				}
			})
		}
	}
}

// An aria2 that serves a corrupt copy over the twin (it seeds without checking it) is banned by
// the MiniBit leecher at its first bad piece, which it alone sent; once an honest seeder comes,
// the download completes with the right bytes. aria2 lives on 127.0.0.5 so that its ban touches
// no other peer.
func TestCorruptV1ClientIsBannedOverTheTwin(t *testing.T) {
	requireTool(t, "aria2c")
	trackerURL := startRegisteredTracker(t)
	honestDir, badDir := t.TempDir(), t.TempDir()
	content, meta := payload(t, honestDir, false, trackerURL)
	publish(t, trackerURL, "payload", meta)
	corrupt := writeContent(t, badDir, meta.Info.Name, fileSize)
	flipEveryPiece(t, corrupt, meta)
	twin, twinHash := writeTwin(t, meta)
	startAria2(t, aria2Options{ip: "127.0.0.5", dir: badDir, torrent: twin, seed: true, unverified: true})
	waitSeeders(t, trackerURL, twinHash, 1)

	leechPath := filepath.Join(t.TempDir(), meta.Info.Name)
	leecher := twinSession(t, meta, leechPath, "127.0.0.2", trackerURL, false, "minibit-leecher")
	waitStats(t, leecher, "aria2 banned", func(st peer.Stats) bool { return st.BansBadBlock >= 1 })

	startSessionAt(t, peer.Config{Config: core.Config{Torrent: meta}, Path: content, Seed: true, Trusted: true,
		TrackerURL: trackerURL}, "127.0.0.3", "minibit-seeder")
	waitComplete(t, leecher)
	assertSameFile(t, content, leechPath)
	if st := leecher.Stats(); st.HashFailures == 0 || st.Bans != 1 {
		t.Errorf("%d hash failures and %d bans: want aria2's pieces failed and aria2 alone banned", st.HashFailures, st.Bans)
	}
}

// flipEveryPiece changes one byte of every piece of the file at path.
func flipEveryPiece(t *testing.T, path string, meta *metainfo.MetaInfo) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	for i := range meta.NumPieces() {
		off := meta.PieceOffset(i)
		if _, err := f.ReadAt(b, off); err != nil {
			t.Fatal(err)
		}
		b[0] ^= 0xff
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
}

// waitStats waits until the session's stats satisfy ok, at most testTimeout.
func waitStats(t *testing.T, s *peer.Session, what string, ok func(peer.Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !ok(s.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("never %s: %+v", what, s.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
