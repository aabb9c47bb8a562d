package peer

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// rawPeer is a hand-driven TCP client speaking (or breaking) the wire protocol.
type rawPeer struct {
	t  *testing.T
	nc net.Conn
}

// dialRaw connects to s and, when handshake is set, exchanges handshakes (fast bit as given).
func dialRaw(t *testing.T, s *Session, handshake, fast bool) *rawPeer {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	p := &rawPeer{t: t, nc: nc}
	if handshake {
		h := wire.Handshake{InfoHash: s.meta.InfoHashV1(), PeerID: NewPeerID()}
		if fast {
			h.SetFast()
		}
		if err := wire.WriteHandshake(nc, h); err != nil {
			t.Fatal(err)
		}
		_ = nc.SetReadDeadline(time.Now().Add(testTimeout))
		if _, err := wire.ReadHandshake(nc); err != nil {
			t.Fatalf("handshake: %v", err)
		}
	}
	return p
}

func (p *rawPeer) send(msgs ...wire.Message) {
	p.t.Helper()
	var b []byte
	for _, m := range msgs {
		b = wire.AppendMessage(b, m)
	}
	p.sendRaw(b)
}

func (p *rawPeer) sendRaw(b []byte) {
	p.t.Helper()
	_ = p.nc.SetWriteDeadline(time.Now().Add(testTimeout))
	if _, err := p.nc.Write(b); err != nil && !isClosed(err) && !errors.Is(err, errConnReset) {
		p.t.Fatal(err)
	}
}

var errConnReset = errors.New("connection reset by peer")

// expectClosed reads (and discards) until the session closes the connection; a timeout fails.
func (p *rawPeer) expectClosed() {
	p.t.Helper()
	_ = p.nc.SetReadDeadline(time.Now().Add(testTimeout))
	_, err := io.Copy(io.Discard, p.nc)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		p.t.Fatal("the session kept the connection open")
	}
}

// waitMessage reads messages until one with id arrives.
func (p *rawPeer) waitMessage(id wire.ID) {
	p.t.Helper()
	_ = p.nc.SetReadDeadline(time.Now().Add(testTimeout))
	r := wire.NewReader(p.nc, 1<<20)
	for {
		m, err := r.Read()
		if err != nil {
			p.t.Fatalf("waiting for %v: %v", id, err)
		}
		if !m.KeepAlive && m.ID == id {
			return
		}
	}
}

func lengthPrefixed(id byte, payload ...byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)))
	return append(append(b, id), payload...)
}

func TestMalformedMessagesCloseTheConnection(t *testing.T) {
	src, meta := testTorrent(t, 1<<20, 32<<10)
	cfg := testConfig(t, meta, src)
	cfg.Seed, cfg.Trusted = true, true
	seeder := startSession(t, cfg)
	n := uint32(meta.NumPieces())
	cases := []struct {
		name string
		fast bool
		msgs []wire.Message
		raw  []byte
	}{
		{name: "request larger than a block", fast: true,
			msgs: []wire.Message{{ID: wire.Request, Index: 0, Begin: 0, Length: 1 << 20}}},
		{name: "request beyond the piece", fast: true,
			msgs: []wire.Message{{ID: wire.Request, Index: 0, Begin: 32 << 10, Length: 16 << 10}}},
		{name: "request beyond the file", fast: true,
			msgs: []wire.Message{{ID: wire.Request, Index: n, Begin: 0, Length: 16 << 10}}},
		{name: "have out of range", fast: true, msgs: []wire.Message{{ID: wire.Have, Index: n + 5}}},
		{name: "piece out of range", fast: true,
			msgs: []wire.Message{{ID: wire.Piece, Index: n, Begin: 0, Payload: make([]byte, 16)}}},
		{name: "bitfield of the wrong size", fast: true,
			msgs: []wire.Message{{ID: wire.BitfieldMsg, Payload: make([]byte, 100)}}},
		{name: "second bitfield", fast: true,
			msgs: []wire.Message{{ID: wire.HaveNone}, {ID: wire.HaveNone}}},
		{name: "fast message without the extension", fast: false, msgs: []wire.Message{{ID: wire.HaveAll}}},
		{name: "unknown message id", fast: true, raw: lengthPrefixed(0x42, 1, 2, 3)},
		{name: "have with a short payload", fast: true, raw: lengthPrefixed(byte(wire.Have), 1)},
		{name: "message longer than any block", fast: true, raw: binary.BigEndian.AppendUint32(nil, 1<<30)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := dialRaw(t, seeder.Session, true, tc.fast)
			if tc.raw != nil {
				p.sendRaw(tc.raw)
			}
			p.send(tc.msgs...)
			p.expectClosed()
		})
	}
	t.Run("bad handshake", func(t *testing.T) {
		p := dialRaw(t, seeder.Session, false, false)
		p.sendRaw(append([]byte{19}, "BitTorrent protocoX........................................................"...))
		p.expectClosed()
	})
	t.Run("handshake for another torrent", func(t *testing.T) {
		p := dialRaw(t, seeder.Session, false, false)
		if err := wire.WriteHandshake(p.nc, wire.Handshake{PeerID: NewPeerID()}); err != nil {
			t.Fatal(err)
		}
		p.expectClosed()
	})
	t.Run("request flood", func(t *testing.T) {
		p := dialRaw(t, seeder.Session, true, true)
		p.send(wire.Message{ID: wire.HaveNone}, wire.Message{ID: wire.Interested})
		p.waitMessage(wire.Unchoke)
		flood := make([]wire.Message, 0, 5000) // never read: the queue of requests must fill up
		for i := range cap(flood) {
			flood = append(flood, wire.Message{ID: wire.Request, Index: uint32(i % int(n)), Length: 16 << 10})
		}
		p.send(flood...)
		p.expectClosed()
	})

	// The session is unharmed: a leecher still gets the file.
	leecher := startSession(t, leecherConfig(t, meta, t.TempDir(), "", seeder.Addr()))
	waitDone(t, leecher)
	assertSameFile(t, src, leecher.cfg.Path)
}

func TestHandshakeAcceptsTruncatedV2InfoHash(t *testing.T) {
	src, meta := testTorrent(t, 256<<10, 32<<10)
	cfg := testConfig(t, meta, src)
	cfg.Seed, cfg.Trusted = true, true
	seeder := startSession(t, cfg)
	p := dialRaw(t, seeder.Session, false, false)
	var short [20]byte
	v2 := meta.InfoHashV2()
	copy(short[:], v2[:20])
	h := wire.Handshake{InfoHash: short, PeerID: NewPeerID()}
	h.SetFast()
	if err := wire.WriteHandshake(p.nc, h); err != nil {
		t.Fatal(err)
	}
	_ = p.nc.SetReadDeadline(time.Now().Add(testTimeout))
	got, err := wire.ReadHandshake(p.nc)
	if err != nil {
		t.Fatal(err)
	}
	if got.InfoHash != short || !got.Fast() || got.PeerID != seeder.PeerID() {
		t.Fatalf("answer %x fast %v: want the truncated v2 hash, the fast bit and the seeder's id", got.InfoHash, got.Fast())
	}
	p.waitMessage(wire.HaveAll) // a fast seeder says HaveAll
}
