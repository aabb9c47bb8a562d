package peer

import (
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// readUntil reads messages until one with id arrives and returns the Piece messages before it.
func readUntil(t *testing.T, r *wire.Reader, id wire.ID) (pieces int) {
	t.Helper()
	for {
		m, err := r.Read()
		if err != nil {
			t.Fatalf("waiting for %v (after %d pieces): %v", id, pieces, err)
		}
		switch {
		case m.KeepAlive:
		case m.ID == id:
			return pieces
		case m.ID == wire.Piece:
			pieces++
		}
	}
}

// A control message to a peer we upload to must not wait for the upload cap. The seeder's cap
// (1 KiB/s, a 32 KiB bucket) lets two blocks go at once and the next two only 32 s later; the
// Reject that answers a Cancel must come before them, well within the read deadline.
func TestControlMessagesDoNotWaitForTheUploadCap(t *testing.T) {
	src, meta := testTorrent(t, 1<<20, 64<<10)
	cfg := testConfig(t, meta, src)
	cfg.Seed, cfg.Trusted = true, true
	cfg.UploadRate = 1 << 10
	seeder := startSession(t, cfg)

	p := dialRaw(t, seeder.Session, true, true)
	_ = p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := wire.NewReader(p.nc, 1<<20)
	p.send(wire.Message{ID: wire.HaveNone}, wire.Message{ID: wire.Interested})
	readUntil(t, r, wire.Unchoke)
	block := func(piece, j int) wire.Message {
		return wire.Message{ID: wire.Request, Index: uint32(piece), Begin: uint32(j * blockLength), Length: blockLength}
	}
	p.send(block(0, 0), block(0, 1), block(0, 2), block(0, 3), block(1, 0))
	if got := readUntil(t, r, wire.Piece); got != 0 {
		t.Fatalf("%d pieces before the first", got)
	}
	readUntil(t, r, wire.Piece) // the bucket's two blocks
	cancel := block(1, 0)
	cancel.ID = wire.Cancel
	p.send(cancel)
	if pieces := readUntil(t, r, wire.Reject); pieces != 0 {
		t.Fatalf("%d blocks came before the Reject: it waited for the cap", pieces)
	}
}
