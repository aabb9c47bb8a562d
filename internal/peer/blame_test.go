package peer

import (
	"bytes"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/wire"
)

// hashClient is a raw peer that speaks the hash messages.
func hashClient(t *testing.T, s *Session) (*rawPeer, *wire.Reader) {
	t.Helper()
	p := dialRaw(t, s, false, false)
	h := wire.Handshake{InfoHash: s.meta.InfoHashV1(), PeerID: NewPeerID()}
	h.SetFast()
	h.SetHashes()
	if err := wire.WriteHandshake(p.nc, h); err != nil {
		t.Fatal(err)
	}
	_ = p.nc.SetReadDeadline(time.Now().Add(testTimeout))
	theirs, err := wire.ReadHandshake(p.nc)
	if err != nil || !theirs.Hashes() {
		t.Fatalf("handshake %v: the session does not say it speaks the hash messages", err)
	}
	return p, wire.NewReader(p.nc, 1<<20)
}

// nextHashAnswer reads until a hashes or hash reject message.
func nextHashAnswer(t *testing.T, r *wire.Reader) wire.Message {
	t.Helper()
	for {
		m, err := r.Read()
		if err != nil {
			t.Fatalf("waiting for a hash answer: %v", err)
		}
		if m.ID == wire.Hashes || m.ID == wire.HashReject {
			m.Payload = bytes.Clone(m.Payload)
			return m
		}
	}
}

func TestSeederAnswersHashRequests(t *testing.T) {
	src, meta := testTorrent(t, 1<<20+100, 256<<10)
	cfg := testConfig(t, meta, src)
	cfg.Seed, cfg.Trusted = true, true
	seeder := startSession(t, cfg)
	p, r := hashClient(t, seeder.Session)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	last := meta.NumPieces() - 1
	want := meta.LeafHashes(last, data[meta.PieceOffset(last):])
	ask, _ := core.PieceHashRange(meta, last)
	p.send(ask.Message(wire.HashRequest))
	m := nextHashAnswer(t, r)
	got, hashes, err := wire.ParseHashes(m.Payload)
	if m.ID != wire.Hashes || err != nil || got != ask || !bytes.Equal(hashes, want) {
		t.Fatalf("answer %v (%v): range %+v", m, err, got)
	}
	for name, bad := range map[string]wire.HashRange{
		"another file":     {PiecesRoot: [32]byte{1}, Length: 16},
		"proof layers":     {PiecesRoot: meta.Info.PiecesRoot, Length: 16, ProofLayers: 2},
		"past the file":    {PiecesRoot: meta.Info.PiecesRoot, Index: 16 * 16, Length: 16},
		"too many leaves":  {PiecesRoot: meta.Info.PiecesRoot, Length: 64},
		"over 512 leaves":  {PiecesRoot: meta.Info.PiecesRoot, Length: 1024},
		"piece layer base": {PiecesRoot: meta.Info.PiecesRoot, BaseLayer: 4, Length: 2},
	} {
		p.send(bad.Message(wire.HashRequest))
		if m := nextHashAnswer(t, r); m.ID != wire.HashReject {
			t.Errorf("%s: answered %v, want a hash reject", name, m)
		}
	}
	// A burst: each request gets an answer; beyond maxHashServes at once some are rejected.
	const burst = 20
	for range burst {
		p.send(ask.Message(wire.HashRequest))
	}
	for range burst {
		nextHashAnswer(t, r)
	}
	if st := seeder.Stats(); st.HashRequestsServed < 2 || st.HashRequestsServed+st.HashRequestsRejected != burst+1+6 {
		t.Fatalf("served %d, rejected %d of %d", st.HashRequestsServed, st.HashRequestsRejected, burst+1+6)
	}
}

func TestLeecherDoesNotAnswerForPiecesItLacks(t *testing.T) {
	_, meta := testTorrent(t, 1<<20, 256<<10)
	leecher := startSession(t, leecherConfig(t, meta, t.TempDir(), ""))
	p, r := hashClient(t, leecher.Session)
	ask, _ := core.PieceHashRange(meta, 0)
	p.send(ask.Message(wire.HashRequest))
	if m := nextHashAnswer(t, r); m.ID != wire.HashReject {
		t.Fatalf("answered %v for a piece it lacks", m)
	}
}

func TestUnaskedHashesAreIgnored(t *testing.T) {
	src, meta := testTorrent(t, 1<<20, 256<<10)
	leecher := startSession(t, leecherConfig(t, meta, t.TempDir(), ""))
	p, _ := hashClient(t, leecher.Session)
	ask, _ := core.PieceHashRange(meta, 1)
	p.send(ask.HashesMessage(make([]byte, 16*32))) // wrong, and never asked: no proof of anything
	p.send(wire.Message{ID: wire.Interested})
	waitFor(t, "the session to read both messages", func() bool {
		return leecher.Stats().PeersInterested == 1
	})
	if leecher.Stats().Bans != 0 {
		t.Fatal("an unasked answer convicted its sender")
	}
	_ = src
	_ = netip.Addr{}
}
