package interop

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/peer/core"
)

// benchSize is the file of the benchmarks: large enough for the transfer to outweigh the set-up,
// in the design note's 256 KiB pieces.
const benchSize = 64 << 20

// BenchmarkMiniBitLeechFromLibtorrent measures a MiniBit leecher downloading the whole file from
// one libtorrent seeder on loopback (found through the tracker), from New to the verified file.
func BenchmarkMiniBitLeechFromLibtorrent(b *testing.B) {
	trackerURL := startTracker(b)
	seedDir := b.TempDir()
	content := writeContent(b, seedDir, "content.bin", benchSize)
	torrentPath := filepath.Join(b.TempDir(), "content.torrent")
	meta := writeTorrent(b, content, metainfo.DefaultPieceLength, trackerURL, torrentPath)
	lt := startLibtorrent(b, "seed", "--torrent", torrentPath, "--save", seedDir)
	lt.waitSeeding()
	waitSeeders(b, trackerURL, meta.InfoHashV1(), 1)
	b.SetBytes(benchSize)
	for b.Loop() {
		dir := b.TempDir()
		s, err := peer.New(peer.Config{
			Config: core.Config{Torrent: meta}, Path: filepath.Join(dir, meta.Info.Name), TrackerURL: trackerURL,
			ListenAddr: "127.0.0.1:0", ExitOnComplete: true, Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		err = s.Run(ctx)
		cancel()
		if err != nil || !s.Stats().Complete {
			b.Fatalf("leecher: %v, %+v", err, s.Stats())
		}
		_ = os.RemoveAll(dir) // 64 MiB an iteration: free it now, not at the end
	}
}

// BenchmarkLibtorrentLeechFromMiniBit measures a libtorrent leecher downloading the whole file
// from one MiniBit seeder on loopback. Each iteration includes starting Python and libtorrent
// (docs/benchmarks.md has the figure; the most of it is libtorrent's start-up delay), so it
// understates the transfer rate.
func BenchmarkLibtorrentLeechFromMiniBit(b *testing.B) {
	trackerURL := startTracker(b)
	content := writeContent(b, b.TempDir(), "content.bin", benchSize)
	torrentPath := filepath.Join(b.TempDir(), "content.torrent")
	meta := writeTorrent(b, content, metainfo.DefaultPieceLength, trackerURL, torrentPath)
	startSession(b, peer.Config{
		Config: core.Config{Torrent: meta}, Path: content, Seed: true, Trusted: true, TrackerURL: trackerURL,
		Logger: slog.New(slog.DiscardHandler),
	}, "minibit-seeder")
	waitSeeders(b, trackerURL, meta.InfoHashV1(), 1)
	b.SetBytes(benchSize)
	for b.Loop() {
		dir := b.TempDir()
		lt := startLibtorrent(b, "leech", "--torrent", torrentPath, "--save", dir)
		lt.wait()
		_ = os.RemoveAll(dir)
	}
}
