package metainfo

import "crypto/sha256"

// Leaf hashes of one piece: what BitTorrent v2 proves each 16 KiB block against (BEP 52). A
// piece's subtree has PieceLeaves leaves; the hashes of its blocks come first and 32-byte zero
// leaves pad it (past the end of the file). They are kept flat, 32 bytes each.

// PieceLeaves is how many leaves piece i's merkle subtree has (the same for every piece): a full
// piece's blocks when the torrent has a piece layer, else the file's blocks padded to a power
// of two.
func (m *MetaInfo) PieceLeaves() int { return m.leavesPerPieceTree() }

// LeafIndex is the index in the file's leaf layer of piece i's first leaf.
func (m *MetaInfo) LeafIndex(i int) int { return i * m.PieceLeaves() }

// LeafHashes returns the PieceLeaves leaf hashes of a piece holding data (the SHA-256 of each
// block, then zero leaves), 32 bytes each, whether or not data is the true piece.
func (m *MetaInfo) LeafHashes(data []byte) []byte {
	leaves := appendBlockHashes(make([]byte, 0, m.PieceLeaves()*hashSize), data)
	return appendPadding(leaves, m.PieceLeaves(), [32]byte{})
}

// VerifyLeaves reports whether leaves (PieceLeaves hashes of 32 bytes) are piece i's: their
// merkle root is the piece's hash. leaves is not changed.
func (m *MetaInfo) VerifyLeaves(i int, leaves []byte) bool {
	if i < 0 || i >= m.NumPieces() || len(leaves) != m.PieceLeaves()*hashSize {
		return false
	}
	return reduceInPlace(append([]byte(nil), leaves...)) == m.PieceHash(i)
}

// BlockHash is the leaf hash of one block's data.
func BlockHash(block []byte) [32]byte { return sha256.Sum256(block) }
