// Package metainfo splits a file into pieces, hashes them (BitTorrent v2 SHA-256 merkle trees,
// BEP 52, and v1 SHA-1 piece hashes, BEP 3), reads and writes hybrid single-file .torrent files,
// and verifies one piece against its hash.
package metainfo

import (
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
)

// BlockSize is the v2 merkle leaf size (BEP 52) and the size of one wire request.
const BlockSize = 16 << 10

// DefaultPieceLength is the design note's block size ("blocos de 256 KiB"): the unit that is
// hashed, verified and announced. BitTorrent calls it the piece length.
const DefaultPieceLength = 256 << 10

// MaxPieceLength bounds the piece length a .torrent may ask for, and so the piece buffer a peer
// allocates for it.
const MaxPieceLength = 64 << 20

// metaVersion is the value of the info dict's "meta version" key for BitTorrent v2.
const metaVersion = 2

// Info is the content of the info dict of a hybrid single-file torrent. Treat it as read-only:
// the info-hashes are computed from the info bytes as created or parsed, not from these fields.
type Info struct {
	// Name is the file's name, a single path element.
	Name string
	// Length is the file's size in bytes, always > 0.
	Length int64
	// PieceLength is the size of every piece but the last, a power of two >= BlockSize.
	PieceLength int64
	// PiecesRoot is the root of the file's v2 merkle tree (BEP 52 "pieces root").
	PiecesRoot [32]byte
	// V1Pieces holds the SHA-1 of each piece (BEP 3 "pieces"), for v1 clients.
	V1Pieces [][20]byte
}

// MetaInfo is a parsed or created .torrent: the tracker URL, the info dict and the v2 piece layer.
type MetaInfo struct {
	// Announce is the tracker's announce URL; it is outside the info dict and may be changed.
	Announce string
	// Info is the info dict's content.
	Info Info

	// pieceLayer holds the v2 hash of each piece (BEP 52 "piece layers"); nil when the file
	// fits in one piece, where PiecesRoot is the only hash.
	pieceLayer [][32]byte
	// infoBytes are the info dict's bencoded bytes exactly as created or received.
	infoBytes  []byte
	infoHashV1 [20]byte
	infoHashV2 [32]byte
}

// newMetaInfo fixes the info bytes and the info-hashes computed from them.
func newMetaInfo(announce string, info Info, layer [][32]byte, infoBytes []byte) *MetaInfo {
	return &MetaInfo{
		Announce:   announce,
		Info:       info,
		pieceLayer: layer,
		infoBytes:  infoBytes,
		infoHashV1: sha1.Sum(infoBytes),
		infoHashV2: sha256.Sum256(infoBytes),
	}
}

// InfoHashV1 is the SHA-1 of the bencoded info dict: the swarm's key for trackers and handshakes.
func (m *MetaInfo) InfoHashV1() [20]byte { return m.infoHashV1 }

// InfoHashV2 is the SHA-256 of the bencoded info dict (BEP 52).
func (m *MetaInfo) InfoHashV2() [32]byte { return m.infoHashV2 }

// InfoBytes returns a copy of the bencoded info dict as created or received.
func (m *MetaInfo) InfoBytes() []byte { return append([]byte(nil), m.infoBytes...) }

// NumPieces is the number of pieces of the file.
func (m *MetaInfo) NumPieces() int { return numPieces(m.Info.Length, m.Info.PieceLength) }

// PieceLen is the length of piece i: PieceLength for all but the last, which may be short.
// It is 0 when i is out of range.
func (m *MetaInfo) PieceLen(i int) int {
	if i < 0 || i >= m.NumPieces() {
		return 0
	}
	return int(min(m.Info.PieceLength, m.Info.Length-m.PieceOffset(i)))
}

// PieceOffset is the offset in the file of piece i's first byte.
func (m *MetaInfo) PieceOffset(i int) int64 { return int64(i) * m.Info.PieceLength }

// PieceHash is the v2 hash of piece i that VerifyPiece checks against: its piece-layer entry, or
// the pieces root when the file fits in one piece.
func (m *MetaInfo) PieceHash(i int) [32]byte {
	if m.pieceLayer == nil {
		return m.Info.PiecesRoot
	}
	return m.pieceLayer[i]
}

// leavesPerPieceTree is how many leaves the merkle tree checked by VerifyPiece has: a full
// piece's worth when there is a piece layer, else the file's blocks padded to a power of two.
func (m *MetaInfo) leavesPerPieceTree() int {
	return treeLeaves(m.Info.Length, m.Info.PieceLength)
}

// treeLeaves is the leaf count of one piece's merkle subtree (see leavesPerPieceTree).
func treeLeaves(length, pieceLength int64) int {
	if length > pieceLength {
		return int(pieceLength / BlockSize)
	}
	return nextPowerOfTwo(int((length-1)/BlockSize + 1))
}

// numPieces is ceil(length / pieceLength) for length > 0, without overflow.
func numPieces(length, pieceLength int64) int {
	if length <= 0 || pieceLength <= 0 {
		return 0
	}
	return int((length-1)/pieceLength + 1)
}

// ValidPieceLength reports whether n can be a piece length: a power of two from BlockSize
// (16 KiB) to MaxPieceLength (64 MiB).
func ValidPieceLength(n int64) error {
	switch {
	case n < BlockSize:
		return fmt.Errorf("piece length %d is below the minimum of %d (16 KiB)", n, BlockSize)
	case n > MaxPieceLength:
		return fmt.Errorf("piece length %d is above the maximum of %d (64 MiB)", n, MaxPieceLength)
	case n&(n-1) != 0:
		return fmt.Errorf("piece length %d is not a power of two", n)
	}
	return nil
}

// ErrEmptyFile is returned for a file of length 0: there is nothing to distribute.
var ErrEmptyFile = errors.New("file is empty: there is nothing to distribute")

// validName rejects names that are not a single, plain path element, since peers create the
// file under this name.
func validName(name string) error {
	switch {
	case name == "":
		return errors.New("name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("name %q is not a file name", name)
	case len(name) > 255:
		return fmt.Errorf("name is %d bytes long, more than 255", len(name))
	}
	for _, c := range []byte(name) {
		if c == '/' || c == '\\' || c == 0 {
			return fmt.Errorf("name %q contains a path separator or NUL", name)
		}
	}
	return nil
}
