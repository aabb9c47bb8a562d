package core

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// seedingCore is a core holding every piece, with one fast peer connected and unchoked.
func seedingCore(t *testing.T, maxPeerRequests int) (*Core, ConnKey, time.Time) {
	t.Helper()
	meta := testMeta(t, 1<<20, 64<<10)
	have := allPieces(meta.NumPieces())
	now := time.Unix(1000, 0)
	c, err := New(Config{Torrent: meta, Have: have, MaxPeerRequests: maxPeerRequests, RandSeed: 1}, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	key := connect(t, c, now, PeerInfo{ID: [20]byte{1}, Addr: netip.MustParseAddrPort("10.0.0.1:1"), Fast: true})
	mustReceive(t, c, now, key, wire.Message{ID: wire.HaveNone})
	mustReceive(t, c, now, key, wire.Message{ID: wire.Interested}) // a free slot: unchoked at once
	if c.conns[key].amChoking {
		t.Fatal("an interested peer with a slot free is still choked")
	}
	c.Effects()
	return c, key, now
}

func mustReceive(t *testing.T, c *Core, now time.Time, key ConnKey, m wire.Message) {
	t.Helper()
	if err := c.Receive(now, key, m); err != nil {
		t.Fatalf("Receive(%v): %v", m.ID, err)
	}
	if err := c.CheckInvariants(); err != nil {
		t.Fatalf("after %v: %v", m.ID, err)
	}
}

func request(piece int) wire.Message {
	return wire.Message{ID: wire.Request, Index: uint32(piece), Length: blockLength}
}

func TestNextUploadsTakesTheOldestRequestsInBatches(t *testing.T) {
	c, key, now := seedingCore(t, 100)
	for i := range 10 {
		mustReceive(t, c, now, key, request(i))
	}
	ready := 0
	for _, e := range c.Effects() {
		if e.Kind == ServeReady {
			ready++
		}
	}
	if ready != 1 {
		t.Fatalf("%d ServeReady effects for 10 requests queued at once, want 1", ready)
	}
	reqs := c.NextUploads(key, nil, 8)
	if len(reqs) != 8 || reqs[0].Piece != 0 {
		t.Fatalf("first batch %v", reqs)
	}
	reqs = c.NextUploads(key, reqs[:0], 8)
	if len(reqs) != 2 || reqs[0].Piece != 8 {
		t.Fatalf("second batch %v", reqs)
	}
}

func TestRequestFloodIsAProtocolError(t *testing.T) {
	c, key, now := seedingCore(t, 4)
	for i := range 4 {
		mustReceive(t, c, now, key, request(i))
	}
	if err := c.Receive(now, key, request(4)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("fifth request over a bound of 4: %v, want a protocol error", err)
	}
	if c.Connected(key) {
		t.Fatal("the flooding connection is still registered")
	}
	if err := c.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

func TestChokeDropsQueuedRequestsWithRejects(t *testing.T) {
	c, key, now := seedingCore(t, 100)
	for i := range 3 {
		mustReceive(t, c, now, key, request(i))
	}
	mustReceive(t, c, now, key, wire.Message{ID: wire.Cancel, Index: 1, Length: blockLength})
	c.Effects()
	c.choke(c.conns[key])
	var got []wire.ID
	for _, e := range c.Effects() {
		got = append(got, e.Msg.ID)
	}
	if len(got) != 3 || got[0] != wire.Choke || got[1] != wire.Reject || got[2] != wire.Reject {
		t.Fatalf("effects of a choke: %v, want choke and two rejects (one was cancelled)", got)
	}
	if reqs := c.NextUploads(key, nil, 8); len(reqs) != 0 {
		t.Fatalf("a choked peer's requests still served: %v", reqs)
	}
}
