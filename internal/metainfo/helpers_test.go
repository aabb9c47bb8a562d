package metainfo

import (
	"crypto/sha256"
	"path/filepath"
	"testing"

	"github.com/minibit-io/minibit/internal/generate"
)

// writeFile writes size bytes of generated content to a new file in a temporary directory.
func writeFile(t testing.TB, name string, seed uint64, size int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := generate.WriteFile(path, seed, size); err != nil {
		t.Fatal(err)
	}
	return path
}

// create makes a torrent of size bytes of generated content.
func create(t testing.TB, size, pieceLength int64) (*MetaInfo, string) {
	t.Helper()
	path := writeFile(t, "data.bin", uint64(size), size)
	m, err := Create(path, CreateOptions{PieceLength: pieceLength, Announce: "http://127.0.0.1:6969/announce"})
	if err != nil {
		t.Fatal(err)
	}
	return m, path
}

// The reference merkle tree below is written independently of merkle.go: recursive, over a
// list of leaves, straight from BEP 52's words.

// refLeaves returns the SHA-256 of each 16 KiB block of data followed by zero leaves up to count.
func refLeaves(data []byte, count int) [][32]byte {
	leaves := make([][32]byte, count)
	for i := 0; i*BlockSize < len(data); i++ {
		leaves[i] = sha256.Sum256(data[i*BlockSize : min(len(data), (i+1)*BlockSize)])
	}
	return leaves
}

// refRoot is the merkle root of a power-of-two list of nodes.
func refRoot(nodes [][32]byte) [32]byte {
	if len(nodes) == 1 {
		return nodes[0]
	}
	left, right := refRoot(nodes[:len(nodes)/2]), refRoot(nodes[len(nodes)/2:])
	return sha256.Sum256(append(left[:], right[:]...))
}

// refTree returns the pieces root and the piece layer (nil for a file of one piece) of data.
func refTree(data []byte, pieceLength int) ([32]byte, [][32]byte) {
	perPiece := pieceLength / BlockSize
	if len(data) <= pieceLength {
		blocks := (len(data) + BlockSize - 1) / BlockSize
		count := 1
		for count < blocks {
			count *= 2
		}
		return refRoot(refLeaves(data, count)), nil
	}
	var layer [][32]byte
	for off := 0; off < len(data); off += pieceLength {
		layer = append(layer, refRoot(refLeaves(data[off:min(len(data), off+pieceLength)], perPiece)))
	}
	pieces := 1
	for pieces < len(layer) {
		pieces *= 2
	}
	// All leaves of the whole file, padded to a power of two of whole pieces.
	return refRoot(refLeaves(data, pieces*perPiece)), layer
}
