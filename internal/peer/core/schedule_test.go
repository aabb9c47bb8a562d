package core

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// scheduledCore is a seeding core (64 KiB pieces: 4 blocks) with n fast peers unchoked.
func scheduledCore(t *testing.T, n int) (*Core, []ConnKey, time.Time) {
	t.Helper()
	c, first, now := seedingCore(t, 100)
	keys := []ConnKey{first}
	for i := 2; i <= n; i++ {
		addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 1)
		key := connect(t, c, now, PeerInfo{ID: [20]byte{byte(i)}, Addr: addr, Fast: true})
		mustReceive(t, c, now, key, wire.Message{ID: wire.HaveNone})
		mustReceive(t, c, now, key, wire.Message{ID: wire.Interested})
		if c.conns[key].amChoking {
			t.Fatalf("peer %d still choked", i)
		}
		keys = append(keys, key)
	}
	c.Effects()
	return c, keys, now
}

// requestPiece queues every block of piece from key.
func requestPiece(t *testing.T, c *Core, now time.Time, key ConnKey, piece int) {
	t.Helper()
	for j := range c.picker.numBlocks(piece) {
		mustReceive(t, c, now, key, wire.Message{ID: wire.Request, Index: uint32(piece), Begin: uint32(j * blockLength), Length: blockLength})
	}
}

func always(ConnKey) bool { return true }

// picks runs PickUpload until nothing is left and returns whose blocks went out, pick by pick.
func picks(c *Core, ready func(ConnKey) bool, batch int) []ConnKey {
	var order []ConnKey
	for {
		key, blocks := c.PickUpload(ready, batch, nil)
		if key == 0 {
			return order
		}
		for range blocks {
			order = append(order, key)
		}
	}
}

func TestUploadSchedulerFinishesOnePieceBeforeStartingAnother(t *testing.T) {
	c, keys, now := scheduledCore(t, 3)
	for i, key := range keys {
		requestPiece(t, c, now, key, i)
	}
	got := picks(c, always, 2)
	a, b, d := keys[0], keys[1], keys[2]
	want := []ConnKey{a, a, a, a, b, b, b, b, d, d, d, d}
	if !slices.Equal(got, want) {
		t.Fatalf("blocks went to %v, want one whole piece after another %v", got, want)
	}
}

func TestUploadSchedulerPrefersThePeerClosestToItsPiece(t *testing.T) {
	c, keys, now := scheduledCore(t, 2)
	a, b := keys[0], keys[1]
	requestPiece(t, c, now, a, 0)
	if key, _ := c.PickUpload(always, 3, nil); key != a { // a has 1 block left of piece 0
		t.Fatalf("first pick went to %d, want %d", key, a)
	}
	requestPiece(t, c, now, b, 1) // b has 4 left
	if got := picks(c, always, 3); !slices.Equal(got, []ConnKey{a, b, b, b, b}) {
		t.Fatalf("blocks went to %v: a's last block should go before b's new piece", got)
	}
}

func TestUploadSchedulerTakesTurnsAmongEquals(t *testing.T) {
	c, keys, now := scheduledCore(t, 2)
	a, b := keys[0], keys[1]
	for piece := range 3 {
		requestPiece(t, c, now, a, piece)
		requestPiece(t, c, now, b, 8+piece)
	}
	got := picks(c, always, 4)
	var turns []ConnKey
	for i := 0; i < len(got); i += 4 {
		turns = append(turns, got[i])
	}
	if !slices.Equal(turns, []ConnKey{a, b, a, b, a, b}) {
		t.Fatalf("pieces went to %v, want turns", turns)
	}
}

func TestUploadSchedulerPassesOverABusyWriterAndAChokedPeer(t *testing.T) {
	c, keys, now := scheduledCore(t, 3)
	a, b, d := keys[0], keys[1], keys[2]
	for i, key := range keys {
		requestPiece(t, c, now, key, i)
	}
	c.choke(c.conns[d])
	busy := func(k ConnKey) bool { return k != a }
	key, blocks := c.PickUpload(busy, 8, nil)
	if key != b || len(blocks) != 4 || blocks[0].Piece != 1 {
		t.Fatalf("with a's writer busy and d choked, picked %d %v; want b's piece 1", key, blocks)
	}
	if key, _ := c.PickUpload(busy, 8, nil); key != 0 {
		t.Fatalf("picked %d: a is busy and d choked", key)
	}
}

func TestUploadSchedulerTakesOnePieceAtATime(t *testing.T) {
	c, keys, now := scheduledCore(t, 1)
	a := keys[0]
	mustReceive(t, c, now, a, request(0))
	mustReceive(t, c, now, a, request(1))
	mustReceive(t, c, now, a, wire.Message{ID: wire.Request, Index: 0, Begin: blockLength, Length: blockLength})
	_, blocks := c.PickUpload(always, 8, nil)
	if len(blocks) != 1 || blocks[0].Piece != 0 {
		t.Fatalf("picked %v, want only the front request (piece 0): the next is another piece", blocks)
	}
	_, blocks = c.PickUpload(always, 8, nil)
	if len(blocks) != 1 || blocks[0].Piece != 1 {
		t.Fatalf("picked %v, want piece 1's request", blocks)
	}
}

// An attacker asking for the same piece over and over must not rank ahead of everyone: after a
// piece's worth of blocks, its requests count as a new piece.
func TestUploadSchedulerGivesNoPriorityForRepeatingAPiece(t *testing.T) {
	c, keys, now := scheduledCore(t, 2)
	attacker, honest := keys[0], keys[1]
	for range 5 {
		requestPiece(t, c, now, attacker, 0)
	}
	requestPiece(t, c, now, honest, 1)
	got := picks(c, always, 4)
	at := slices.Index(got, honest)
	if at < 0 || at > 4 {
		t.Fatalf("the honest peer's first block went out at position %d of %v; want right after the attacker's first piece", at, got)
	}
}
