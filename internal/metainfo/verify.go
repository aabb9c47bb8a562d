package metainfo

import "sync"

// hasherPool lends pieceHashers to VerifyPiece so that verifying allocates nothing.
var hasherPool = sync.Pool{New: func() any { return new(pieceHasher) }}

// VerifyPiece reports whether data is piece i: its length is PieceLen(i), the root of the
// SHA-256 merkle subtree of its file data equals PieceHash(i) (the file's piece-layer entry, or
// its pieces root for a one-piece file), and the padding after the file data is all zeros.
// It is safe for concurrent use and allocates nothing in the steady state.
func (m *MetaInfo) VerifyPiece(i int, data []byte) bool {
	h := hasherPool.Get().(*pieceHasher)
	ok := m.verifyWith(h, i, data)
	hasherPool.Put(h)
	return ok
}

// Verifier checks pieces of one torrent with its own scratch buffer: an alternative to
// VerifyPiece for a goroutine that verifies many pieces. A Verifier is owned by one goroutine.
type Verifier struct {
	m *MetaInfo
	h pieceHasher
}

// NewVerifier returns a Verifier for m's pieces.
func (m *MetaInfo) NewVerifier() *Verifier { return &Verifier{m: m} }

// VerifyPiece is MetaInfo.VerifyPiece using v's scratch buffer.
func (v *Verifier) VerifyPiece(i int, data []byte) bool { return v.m.verifyWith(&v.h, i, data) }

func (m *MetaInfo) verifyWith(h *pieceHasher, i int, data []byte) bool {
	if i < 0 || i >= m.NumPieces() || len(data) != m.PieceLen(i) {
		return false
	}
	file, _, dataLen := m.PieceFile(i)
	if m.Info.Files[file].Length > m.Info.PieceLength && m.layers[file] == nil {
		return false // the piece layer is still missing
	}
	if !allZero(data[dataLen:]) {
		return false
	}
	return h.root(data[:dataLen], m.PieceLeaves(i)) == m.PieceHash(i)
}

// allZero reports whether every byte of b is zero.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
