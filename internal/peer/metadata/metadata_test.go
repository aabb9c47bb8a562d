package metadata

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/wire"
)

func TestFetchFromTwoSeeders(t *testing.T) {
	meta := multiFileTorrent(t)
	a, b := startSeeder(t, meta, honest), startSeeder(t, meta, honest)
	got, logs, err := fetchFrom(t, meta, 0, a, b)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	sameTorrent(t, meta, got)
	if a.conns.Load() != 1 || b.conns.Load() != 1 {
		t.Fatalf("connections: %d and %d, want one to each seeder", a.conns.Load(), b.conns.Load())
	}
}

// The attacker's tests: each bad seeder alone gives nothing (ErrNoPeer) and is dropped for
// the reason; with an honest seeder beside it the fetch succeeds.
func TestFetchAttackers(t *testing.T) {
	meta := multiFileTorrent(t)
	var flipped atomic.Bool
	cases := []struct {
		name   string
		mutate mutator
		why    string
	}{
		{"wrong hash", metadataMutator(nil, func(m *wire.MetadataMsg) bool {
			if m.Type == wire.MetadataData && m.Piece == 1 {
				m.Data[7] ^= 1
			}
			return true
		}), "does not match the info-hash"},
		{"1 GiB metadata_size", metadataMutator(func(h *wire.ExtHandshake) { h.MetadataSize = 1 << 30 }, nil), "past the size limit"},
		{"oversized piece", metadataMutator(nil, func(m *wire.MetadataMsg) bool {
			if m.Type == wire.MetadataData && len(m.Data) < wire.MetadataPieceSize {
				m.Data = append(m.Data, 'x') // the last piece, one byte longer
			}
			return true
		}), "metadata piece"},
		// Pieces answered in another order than asked are fine; a piece not asked (or asked and
		// answered already) is not.
		{"piece not asked for", metadataMutator(nil, func(m *wire.MetadataMsg) bool {
			if m.Type == wire.MetadataData {
				m.Piece = 0
				m.Data, _ = wire.MetadataPiece(meta.InfoBytes(), 0)
			}
			return true
		}), "did not ask for"},
		{"wrong total_size", metadataMutator(nil, func(m *wire.MetadataMsg) bool {
			m.TotalSize++
			return true
		}), "metadata piece"},
		{"hashes that do not prove", hashesMutator(func(h []byte) { h[len(h)-1] ^= 1 }), "do not prove"},
		{"hashes of another chunk", hashesMutator(func(h []byte) {
			if !flipped.Swap(true) {
				copy(h, h[32:64])
			}
		}), "do not prove"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			flipped.Store(false)
			bad := startSeeder(t, meta, tc.mutate)
			_, logs, err := fetchFrom(t, meta, 0, bad)
			if !errors.Is(err, ErrNoPeer) {
				t.Fatalf("from the attacker alone: %v, want ErrNoPeer\n%s", err, logs)
			}
			if !logs.dropped(bad.addr(), tc.why) {
				t.Fatalf("the attacker was not dropped for %q:\n%s", tc.why, logs)
			}
			flipped.Store(false)
			bad2, good := startSeeder(t, meta, tc.mutate), startSeeder(t, meta, honest)
			got, logs, err := fetchFrom(t, meta, 0, bad2, good)
			if err != nil {
				t.Fatalf("with an honest seeder too: %v\n%s", err, logs)
			}
			sameTorrent(t, meta, got)
		})
	}
}

// A seeder that never answers (or never offers ut_metadata) is dropped after the stall
// timeout; an honest one finishes.
func TestFetchStallingPeer(t *testing.T) {
	meta := multiFileTorrent(t)
	for _, tc := range []struct {
		name   string
		mutate mutator
		why    string
	}{
		{"metadata", metadataMutator(nil, func(m *wire.MetadataMsg) bool { return m.Type != wire.MetadataData }), "stall"},
		{"hashes", func(m wire.Message) (wire.Message, bool) { return m, m.ID != wire.Hashes }, "stall"},
		{"no extension handshake", func(m wire.Message) (wire.Message, bool) { return m, m.ID != wire.Extended }, "no ut_metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			staller := startSeeder(t, meta, tc.mutate)
			_, logs, err := fetchFrom(t, meta, 500*time.Millisecond, staller)
			if !errors.Is(err, ErrNoPeer) || !logs.dropped(staller.addr(), tc.why) {
				t.Fatalf("a stalling peer alone: %v\n%s", err, logs)
			}
			staller, good := startSeeder(t, meta, tc.mutate), startSeeder(t, meta, honest)
			got, logs, err := fetchFrom(t, meta, 500*time.Millisecond, staller, good)
			if err != nil {
				t.Fatalf("with an honest seeder too: %v\n%s", err, logs)
			}
			sameTorrent(t, meta, got)
		})
	}
}

func TestFetchNoPeers(t *testing.T) {
	meta := multiFileTorrent(t)
	if _, _, err := fetchFrom(t, meta, 0); !errors.Is(err, ErrNoPeer) {
		t.Fatalf("no peers: %v", err)
	}
}

// An info dict of hundreds of metadata pieces (a 100 GiB payload's is about 500) comes from a
// single MiniBit seeder, which serves one connection at most 64 pieces a second and rejects
// the rest: rejects that alternate with data slow the fetch down, they do not drop the peer.
func TestFetchALargeInfoDictFromOneRateLimitedSeeder(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 48000 files")
	}
	meta := manyFilesTorrent(t, 48000)
	pieces := wire.MetadataPieces(int64(len(meta.InfoBytes())))
	if pieces < 5*64 {
		t.Fatalf("the info dict has %d metadata pieces, want more than five seconds' worth (320)", pieces)
	}
	got, logs, err := fetchFrom(t, meta, 0, startSeeder(t, meta, honest))
	if err != nil {
		t.Fatalf("%d metadata pieces from one seeder: %v\n%s", pieces, err, logs)
	}
	sameTorrent(t, meta, got)
}

// manyFilesTorrent is a directory torrent of n empty files and one small one: a large info
// dict over a tiny payload.
func manyFilesTorrent(t testing.TB, n int) *metainfo.MetaInfo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "many")
	writeFile(t, filepath.Join(dir, "data.bin"), []byte("payload"))
	for i := range n {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("d%03d", i%100), fmt.Sprintf("empty-file-with-a-long-name-%06d", i)), nil)
	}
	meta, err := metainfo.CreateDir(dir, metainfo.CreateOptions{PieceLength: 16 << 10, Announce: "http://tracker/announce"})
	if err != nil {
		t.Fatal(err)
	}
	return meta
}
