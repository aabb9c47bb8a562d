package metainfo

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
)

// The v1 piece space and the files: every file starts on a piece boundary (pad files fill the
// rest of a file's last piece, BEP 47), so each piece holds bytes of exactly one file, then zero
// padding when it is that file's last piece and the file's length is not a multiple of the
// piece length. A piece's v2 hash is a node of its own file's merkle tree.

// MultiFile reports whether the torrent is a multi-file one (a directory), even of one file.
func (m *MetaInfo) MultiFile() bool {
	return len(m.Info.Files) != 1 || m.Info.Files[0].Path != nil
}

// PayloadBytes is the sum of the files' lengths, pad files excluded.
func (m *MetaInfo) PayloadBytes() int64 {
	var n int64
	for _, f := range m.Info.Files {
		n += f.Length
	}
	return n
}

// ContentID is the torrent's content identity: "sha256:" and the v2 info-hash in hex.
func (m *MetaInfo) ContentID() string {
	return "sha256:" + hex.EncodeToString(m.infoHashV2[:])
}

// fileOf is the index of the file piece i belongs to; i must be a valid piece. Zero-length
// files hold no piece: one with the same offset as the piece is followed by the file that does.
func (m *MetaInfo) fileOf(i int) int {
	return sort.Search(len(m.firstPiece), func(k int) bool { return m.firstPiece[k] > i }) - 1
}

// PieceFile returns the file piece i belongs to, the offset in that file of the piece's first
// byte, and how many of the piece's bytes are file data (PieceLen(i)-dataLen bytes of zero
// padding follow). It returns (-1, 0, 0) for a piece out of range.
func (m *MetaInfo) PieceFile(i int) (file int, offsetInFile int64, dataLen int) {
	if i < 0 || i >= m.NumPieces() {
		return -1, 0, 0
	}
	file = m.fileOf(i)
	f := m.Info.Files[file]
	offsetInFile = m.PieceOffset(i) - f.Offset
	return file, offsetInFile, int(min(int64(m.PieceLen(i)), f.Length-offsetInFile))
}

// PieceRoot returns the pieces root of piece i's file and the piece's index within that file:
// what a BEP 52 hash request for the piece names. It returns a zero root and -1 out of range.
func (m *MetaInfo) PieceRoot(i int) (root [32]byte, indexInFile int) {
	if i < 0 || i >= m.NumPieces() {
		return [32]byte{}, -1
	}
	file := m.fileOf(i)
	return m.Info.Files[file].PiecesRoot, i - m.firstPiece[file]
}

// PieceHash is the v2 hash of piece i that VerifyPiece checks against: its entry in its file's
// piece layer, or the file's pieces root when the file fits in one piece. It is zero for a
// piece out of range or whose piece layer is still missing.
func (m *MetaInfo) PieceHash(i int) [32]byte {
	if i < 0 || i >= m.NumPieces() {
		return [32]byte{}
	}
	file := m.fileOf(i)
	f := m.Info.Files[file]
	if f.Length <= m.Info.PieceLength {
		return f.PiecesRoot
	}
	layer := m.layers[file]
	if layer == nil {
		return [32]byte{}
	}
	return layer[i-m.firstPiece[file]]
}

// FilePieceLayer returns file's piece layer (the v2 hash of each of its pieces), nil when the
// file fits in one piece or its layer is still missing. The slice is shared: do not modify it.
func (m *MetaInfo) FilePieceLayer(file int) [][32]byte {
	if file < 0 || file >= len(m.layers) {
		return nil
	}
	return m.layers[file]
}

// FilePieces returns file's first piece and its number of pieces (0 for an empty file).
func (m *MetaInfo) FilePieces(file int) (first, count int) {
	if file < 0 || file >= len(m.Info.Files) {
		return 0, 0
	}
	return m.firstPiece[file], numPieces(m.Info.Files[file].Length, m.Info.PieceLength)
}

// FileByRoot returns the first file whose pieces root is root (identical files share one);
// false when no non-empty file has it.
func (m *MetaInfo) FileByRoot(root [32]byte) (file int, ok bool) {
	for k, f := range m.Info.Files {
		if f.Length > 0 && f.PiecesRoot == root {
			return k, true
		}
	}
	return -1, false
}

// NeedsPieceLayers returns the files whose piece layer is still missing (a MetaInfo made by
// FromInfoBytes), one file for each distinct pieces root, in file order.
func (m *MetaInfo) NeedsPieceLayers() []int {
	var need []int
	seen := make(map[[32]byte]bool)
	for k, f := range m.Info.Files {
		if f.Length > m.Info.PieceLength && m.layers[k] == nil && !seen[f.PiecesRoot] {
			seen[f.PiecesRoot] = true
			need = append(need, k)
		}
	}
	return need
}

// SetPieceLayer sets file's piece layer after checking that it hashes to the file's pieces
// root; every file with the same root gets it. It must not run concurrently with other methods.
func (m *MetaInfo) SetPieceLayer(file int, hashes [][32]byte) error {
	if file < 0 || file >= len(m.Info.Files) {
		return fmt.Errorf("metainfo: no file %d (the torrent has %d)", file, len(m.Info.Files))
	}
	f := m.Info.Files[file]
	n := numPieces(f.Length, m.Info.PieceLength)
	if n <= 1 {
		return fmt.Errorf("metainfo: file %d fits in one piece: it has no piece layer", file)
	}
	if len(hashes) != n {
		return fmt.Errorf("metainfo: piece layer of file %d has %d hashes, want %d", file, len(hashes), n)
	}
	if layerRoot(hashes, int(m.Info.PieceLength/BlockSize)) != f.PiecesRoot {
		return errors.New("metainfo: the piece layer does not hash to the file's pieces root")
	}
	layer := append([][32]byte(nil), hashes...)
	for k, g := range m.Info.Files {
		if g.Length == f.Length && g.PiecesRoot == f.PiecesRoot {
			m.layers[k] = layer
		}
	}
	return nil
}

// hasAllLayers reports whether every file larger than one piece has its piece layer.
func (m *MetaInfo) hasAllLayers() bool { return len(m.NeedsPieceLayers()) == 0 }
