package metainfo

import "sync"

// hasherPool lends pieceHashers to VerifyPiece so that verifying allocates nothing.
var hasherPool = sync.Pool{New: func() any { return new(pieceHasher) }}

// VerifyPiece reports whether data is piece i: its length is PieceLen(i) and the root of its
// SHA-256 merkle subtree equals the piece-layer entry (or the pieces root for a one-piece file).
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
	return h.root(data, m.leavesPerPieceTree()) == m.PieceHash(i)
}
