package core

import (
	"bytes"
	"slices"
	"testing"
)

// leavesOf builds flat leaf hashes from one byte per leaf (leaf i is 32 copies of b[i]).
func leavesOf(b ...byte) []byte {
	var out []byte
	for _, x := range b {
		out = append(out, bytes.Repeat([]byte{x}, 32)...)
	}
	return out
}

// receivedFrom is a started piece whose block i came from from[i] (0: not received).
func receivedFrom(from []ConnKey, who map[ConnKey]Identity) *startedPiece {
	sp := &startedPiece{blocks: make([]blockState, len(from))}
	for i, key := range from {
		if key != 0 {
			sp.blocks[i] = blockState{received: true, sender: key, senderID: who[key]}
		}
	}
	return sp
}

func TestBlockRecordsPairBlocksWithSenders(t *testing.T) {
	who := map[ConnKey]Identity{1: identity("10.0.0.1", 1, 1), 2: identity("10.0.0.2", 1, 2)}
	records := blockRecords(receivedFrom([]ConnKey{1, 0, 2, 1}, who), leavesOf(0xA, 0xB, 0xC, 0xD))
	if len(records) != 3 {
		t.Fatalf("%d records, want 3 (a block never received has none)", len(records))
	}
	if r := records[1]; r.block != 2 || r.key != 2 || r.from != who[2] || r.hash[0] != 0xC {
		t.Fatalf("record %+v", r)
	}
}

func TestJudgeConvictsOnlyTheSendersOfBadBlocks(t *testing.T) {
	who := map[ConnKey]Identity{
		1: identity("10.0.0.1", 1, 1), 2: identity("10.0.0.2", 1, 2), 3: identity("10.0.0.3", 1, 3),
	}
	proven := leavesOf(1, 2, 3, 4, 5, 6)
	received := leavesOf(1, 2, 9, 4, 9, 6) // blocks 2 and 4 are bad
	records := blockRecords(receivedFrom([]ConnKey{1, 1, 2, 3, 2, 3}, who), received)
	guilty, cleared := judge(records, proven)
	if len(guilty) != 1 || guilty[0].key != 2 {
		t.Fatalf("guilty %+v, want only connection 2 (once)", guilty)
	}
	slices.Sort(cleared)
	if !slices.Equal(cleared, []ConnKey{1, 3}) {
		t.Fatalf("cleared %v, want [1 3]", cleared)
	}
	// A peer with good blocks and one bad one is guilty, not cleared.
	records = blockRecords(receivedFrom([]ConnKey{1, 1}, who), leavesOf(1, 9))
	guilty, cleared = judge(records, leavesOf(1, 2))
	if len(guilty) != 1 || len(cleared) != 0 {
		t.Fatalf("guilty %v cleared %v", guilty, cleared)
	}
	// Every block good: nobody is guilty.
	if guilty, _ := judge(blockRecords(receivedFrom([]ConnKey{1, 2, 3, 1, 2, 3}, who), proven), proven); len(guilty) != 0 {
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
		s := testCore(t, tc.size, tc.pieceLength)
		meta := s.meta
		last := meta.NumPieces() - 1
		r, ok := s.pieceRange(last)
		if ok != tc.askable {
			t.Fatalf("%+v: askable %v", tc, ok)
		}
		if !ok {
			continue
		}
		if err := r.Valid(); err != nil || r.PiecesRoot != meta.Info.PiecesRoot || int(r.Length) != meta.PieceLeaves(last) {
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

func TestSuspectsAreBounded(t *testing.T) {
	s := testCore(t, 64<<20, 64<<10) // 1024 pieces of 4 leaves
	who := map[ConnKey]Identity{1: identity("10.0.0.1", 1, 1)}
	leaves := leavesOf(1, 2, 3, 4)
	for piece := range 2 * maxSuspectPieces {
		s.suspect(piece, blockRecords(receivedFrom([]ConnKey{1, 1, 1, 1}, who), leaves))
	}
	if len(s.blame.suspects) != maxSuspectPieces {
		t.Fatalf("%d suspect pieces, bound is %d", len(s.blame.suspects), maxSuspectPieces)
	}
	for range 10 { // the same piece failing again and again
		s.suspect(0, blockRecords(receivedFrom([]ConnKey{1, 1, 1, 1}, who), leaves))
	}
	if n := len(s.blame.suspects[0].records); n != recordsPerLeaf*4 {
		t.Fatalf("%d records of one piece, bound is %d", n, recordsPerLeaf*4)
	}
}
