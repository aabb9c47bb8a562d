package core

import (
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer/peertest"
)

// testMeta is the torrent of a generated file of size bytes.
func testMeta(t testing.TB, size, pieceLength int64) *metainfo.MetaInfo {
	t.Helper()
	_, meta := peertest.Torrent(t, size, pieceLength)
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

// allPieces is the Have of a core that holds every one of n pieces.
func allPieces(n int) []bool {
	have := make([]bool, n)
	for i := range have {
		have[i] = true
	}
	return have
}
