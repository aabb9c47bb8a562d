package metainfo

import (
	"bytes"
	"os"
	"testing"
)

func TestLeafHashesProveThePiece(t *testing.T) {
	for _, tc := range []struct{ size, pieceLength int64 }{
		{5*BlockSize + 100, 4 * BlockSize}, // two pieces, the last short
		{3*BlockSize + 1, 16 * BlockSize},  // one piece: the tree is the file's
		{2 * BlockSize, BlockSize},         // one leaf per piece
	} {
		m, path := create(t, tc.size, tc.pieceLength)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range m.NumPieces() {
			piece := data[m.PieceOffset(i) : m.PieceOffset(i)+int64(m.PieceLen(i))]
			leaves := m.LeafHashes(i, piece)
			if len(leaves) != m.PieceLeaves(i)*32 || !m.VerifyLeaves(i, leaves) {
				t.Fatalf("%+v piece %d: leaves do not prove it", tc, i)
			}
			kept := bytes.Clone(leaves)
			m.VerifyLeaves(i, leaves)
			if !bytes.Equal(kept, leaves) {
				t.Fatal("VerifyLeaves changed its input")
			}
			leaves[0] ^= 1
			if m.VerifyLeaves(i, leaves) || m.VerifyLeaves(i, leaves[:32]) || m.VerifyLeaves(-1, kept) {
				t.Fatalf("%+v piece %d: wrong leaves accepted", tc, i)
			}
			if first := BlockHash(piece[:min(len(piece), BlockSize)]); !bytes.Equal(first[:], kept[:32]) {
				t.Fatal("BlockHash differs from the first leaf")
			}
		}
	}
}
