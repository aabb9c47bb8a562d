package metainfo

import "crypto/sha256"

// Leaf hashes of one piece: what BitTorrent v2 proves each 16 KiB block against (BEP 52). A
// piece's subtree has PieceLeaves(i) leaves: the hashes of the blocks of its file data come
// first and 32-byte zero leaves pad it (past the end of its file). They are kept flat, 32 bytes
// each. The padding of a multi-file torrent's piece (BEP 47) is not part of any leaf.

// PieceLeaves is how many leaves piece i's merkle subtree has: a full piece's blocks when its
// file has a piece layer, else the file's blocks padded to a power of two. It is 0 out of range.
func (m *MetaInfo) PieceLeaves(i int) int {
	if i < 0 || i >= m.NumPieces() {
		return 0
	}
	return treeLeaves(m.Info.Files[m.fileOf(i)].Length, m.Info.PieceLength)
}

// LeafIndex is the index in its file's leaf layer of piece i's first leaf.
func (m *MetaInfo) LeafIndex(i int) int {
	_, index := m.PieceRoot(i)
	return index * m.PieceLeaves(i)
}

// LeafHashes returns the PieceLeaves(i) leaf hashes of piece i holding data (the SHA-256 of
// each block of its file data, then zero leaves), 32 bytes each, whether or not data is the
// true piece. data is the whole piece, padding included.
func (m *MetaInfo) LeafHashes(i int, data []byte) []byte {
	n := m.PieceLeaves(i)
	_, _, dataLen := m.PieceFile(i)
	leaves := appendBlockHashes(make([]byte, 0, n*hashSize), data[:min(dataLen, len(data))])
	return appendPadding(leaves, n, [32]byte{})
}

// VerifyLeaves reports whether leaves (PieceLeaves(i) hashes of 32 bytes) are piece i's: their
// merkle root is the piece's hash. leaves is not changed.
func (m *MetaInfo) VerifyLeaves(i int, leaves []byte) bool {
	if i < 0 || i >= m.NumPieces() || len(leaves) != m.PieceLeaves(i)*hashSize {
		return false
	}
	return reduceInPlace(append([]byte(nil), leaves...)) == m.PieceHash(i)
}

// BlockHash is the leaf hash of one block's data.
func BlockHash(block []byte) [32]byte { return sha256.Sum256(block) }

// LeafPiece locates leaf number leaf of the merkle tree of the file whose pieces root is root
// (the first such file): the piece that holds it and its index among the piece's leaves; false
// past the file's last piece (a zero leaf) or for a root no file has.
func (m *MetaInfo) LeafPiece(root [32]byte, leaf int) (piece, leafInPiece int, ok bool) {
	file, ok := m.FileByRoot(root)
	if !ok || leaf < 0 {
		return 0, 0, false
	}
	first, count := m.FilePieces(file)
	n := m.PieceLeaves(first)
	if leaf/n >= count {
		return 0, 0, false
	}
	return first + leaf/n, leaf % n, true
}
