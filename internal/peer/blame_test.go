package peer

import (
	"bytes"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// leavesOf builds flat leaf hashes from one byte per leaf (leaf i is 32 copies of b[i]).
func leavesOf(b ...byte) []byte {
	var out []byte
	for _, x := range b {
		out = append(out, bytes.Repeat([]byte{x}, 32)...)
	}
	return out
}

func TestBlockRecordsPairBlocksWithSenders(t *testing.T) {
	who := map[ConnKey]peerIdentity{1: identity("10.0.0.1", 1, 1), 2: identity("10.0.0.2", 1, 2)}
	records := blockRecords(leavesOf(0xA, 0xB, 0xC, 0xD), []ConnKey{1, 0, 2, 1}, who)
	if len(records) != 3 {
		t.Fatalf("%d records, want 3 (a block never received has none)", len(records))
	}
	if r := records[1]; r.block != 2 || r.key != 2 || r.from != who[2] || r.hash[0] != 0xC {
		t.Fatalf("record %+v", r)
	}
}

func TestJudgeConvictsOnlyTheSendersOfBadBlocks(t *testing.T) {
	who := map[ConnKey]peerIdentity{
		1: identity("10.0.0.1", 1, 1), 2: identity("10.0.0.2", 1, 2), 3: identity("10.0.0.3", 1, 3),
	}
	proven := leavesOf(1, 2, 3, 4, 5, 6)
	received := leavesOf(1, 2, 9, 4, 9, 6) // blocks 2 and 4 are bad
	records := blockRecords(received, []ConnKey{1, 1, 2, 3, 2, 3}, who)
	guilty, cleared := judge(records, proven)
	if len(guilty) != 1 || guilty[0].key != 2 {
		t.Fatalf("guilty %+v, want only connection 2 (once)", guilty)
	}
	slices.Sort(cleared)
	if !slices.Equal(cleared, []ConnKey{1, 3}) {
		t.Fatalf("cleared %v, want [1 3]", cleared)
	}
	// A peer with good blocks and one bad one is guilty, not cleared.
	records = blockRecords(leavesOf(1, 9), []ConnKey{1, 1}, who)
	guilty, cleared = judge(records, leavesOf(1, 2))
	if len(guilty) != 1 || len(cleared) != 0 {
		t.Fatalf("guilty %v cleared %v", guilty, cleared)
	}
	// Every block good: nobody is guilty.
	if guilty, _ := judge(blockRecords(proven, []ConnKey{1, 2, 3, 1, 2, 3}, who), proven); len(guilty) != 0 {
		t.Fatalf("honest senders convicted: %v", guilty)
	}
}

func TestPieceRange(t *testing.T) {
	for _, tc := range []struct {
		size, pieceLength int64
		askable           bool
	}{
		{1 << 20, 256 << 10, true},   // 16 leaves per piece
		{100 << 10, 256 << 10, true}, // one piece: the file's 7 blocks padded to 8 leaves
		{1 << 20, 16 << 10, false},   // one leaf per piece: the piece hash proves the block
		{32 << 20, 16 << 20, false},  // 1024 leaves: more than one request may ask
	} {
		_, meta := testTorrent(t, tc.size, tc.pieceLength)
		s := &Session{meta: meta}
		last := meta.NumPieces() - 1
		r, ok := s.pieceRange(last)
		if ok != tc.askable {
			t.Fatalf("%+v: askable %v", tc, ok)
		}
		if !ok {
			continue
		}
		if err := r.Valid(); err != nil || r.PiecesRoot != meta.Info.PiecesRoot || int(r.Length) != meta.PieceLeaves() {
			t.Fatalf("%+v: range %+v (%v)", tc, r, err)
		}
		if piece, ok := s.pieceOfRange(r); !ok || piece != last {
			t.Fatalf("pieceOfRange(%+v) = %d, %v", r, piece, ok)
		}
		r.ProofLayers = 1
		if _, ok := s.pieceOfRange(r); ok {
			t.Fatal("a range with proof layers taken for ours")
		}
	}
}

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
	want := meta.LeafHashes(data[meta.PieceOffset(last):])
	ask, _ := seeder.pieceRange(last)
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
	ask, _ := leecher.pieceRange(0)
	p.send(ask.Message(wire.HashRequest))
	if m := nextHashAnswer(t, r); m.ID != wire.HashReject {
		t.Fatalf("answered %v for a piece it lacks", m)
	}
}

func TestUnaskedHashesAreIgnored(t *testing.T) {
	src, meta := testTorrent(t, 1<<20, 256<<10)
	leecher := startSession(t, leecherConfig(t, meta, t.TempDir(), ""))
	p, _ := hashClient(t, leecher.Session)
	ask, _ := leecher.pieceRange(1)
	p.send(ask.HashesMessage(make([]byte, 16*32))) // wrong, and never asked: no proof of anything
	p.send(wire.Message{ID: wire.Interested})
	waitFor(t, "the session to read both messages", func() bool {
		leecher.mu.Lock()
		defer leecher.mu.Unlock()
		for _, c := range leecher.conns {
			return c.peerInterested
		}
		return false
	})
	if leecher.Stats().Bans != 0 {
		t.Fatal("an unasked answer convicted its sender")
	}
	_ = src
	_ = netip.Addr{}
}

func TestSuspectsAreBounded(t *testing.T) {
	_, meta := testTorrent(t, 64<<20, 64<<10) // 1024 pieces of 4 leaves
	s := &Session{meta: meta, log: testLogger(t)}
	who := map[ConnKey]peerIdentity{1: identity("10.0.0.1", 1, 1)}
	leaves := leavesOf(1, 2, 3, 4)
	for piece := range 2 * maxSuspectPieces {
		s.suspectLocked(piece, blockRecords(leaves, []ConnKey{1, 1, 1, 1}, who))
	}
	if len(s.blame.suspects) != maxSuspectPieces {
		t.Fatalf("%d suspect pieces, bound is %d", len(s.blame.suspects), maxSuspectPieces)
	}
	for range 10 { // the same piece failing again and again
		s.suspectLocked(0, blockRecords(leaves, []ConnKey{1, 1, 1, 1}, who))
	}
	if n := len(s.blame.suspects[0].records); n != recordsPerLeaf*4 {
		t.Fatalf("%d records of one piece, bound is %d", n, recordsPerLeaf*4)
	}
}
