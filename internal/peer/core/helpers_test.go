package core

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
)

// testMeta is the torrent of a generated file of size bytes.
func testMeta(t testing.TB, size, pieceLength int64) *metainfo.MetaInfo {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.bin")
	if err := generate.WriteFile(path, 7, size); err != nil {
		t.Fatal(err)
	}
	meta, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: pieceLength})
	if err != nil {
		t.Fatal(err)
	}
	return meta
}

// testCore is a core for a generated file, with no piece.
func testCore(t testing.TB, size, pieceLength int64) *Core {
	t.Helper()
	c, err := New(Config{Torrent: testMeta(t, size, pieceLength), RandSeed: 1}, nil, time.Unix(1000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// connect registers a connection as the shell does once its slot is reserved and its
// handshakes are done.
func connect(t testing.TB, c *Core, now time.Time, info PeerInfo) ConnKey {
	t.Helper()
	c.slots.take(slotKey(info.Addr), info.Outgoing)
	key, err := c.Connect(now, info)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
