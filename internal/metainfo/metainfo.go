// Package metainfo splits a file or a directory tree into pieces, hashes them (BitTorrent v2
// SHA-256 merkle trees with one root per file, BEP 52, and v1 SHA-1 piece hashes, BEP 3), reads
// and writes hybrid .torrent files (single-file, or multi-file with BEP 47 pad files so that
// every file starts on a piece boundary), writes their v1-only twin, and verifies one piece
// against its hash.
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

// Info is the content of the info dict of a hybrid torrent. Treat it as read-only: the
// info-hashes are computed from the info bytes as created or parsed, not from these fields.
type Info struct {
	// Name is the file's name (single-file) or the top directory's name (multi-file), a single
	// path element.
	Name string
	// Length is the size of the v1 piece space, always > 0: the file's size for a single-file
	// torrent; the files' sizes plus the pad files' for a multi-file torrent.
	Length int64
	// PieceLength is the size of every piece but the last, a power of two >= BlockSize.
	PieceLength int64
	// PiecesRoot is the root of the single file's v2 merkle tree (BEP 52 "pieces root"); zero
	// for a multi-file torrent, whose roots are in Files.
	PiecesRoot [32]byte
	// V1Pieces holds the SHA-1 of each piece of the v1 piece space (BEP 3 "pieces").
	V1Pieces [][20]byte
	// Files are the payload's files (pad files excluded) in the v2 file tree's order (by path
	// elements, bytewise); exactly one entry, with a nil Path, for a single-file torrent.
	Files []File
}

// File is one file of the payload (not a pad file).
type File struct {
	// Path is the file's path elements under Info.Name; nil for a single-file torrent.
	Path []string
	// Length is the file's size in bytes; it may be 0 (no pieces, zero PiecesRoot).
	Length int64
	// PiecesRoot is the root of the file's v2 merkle tree; zero when Length is 0.
	PiecesRoot [32]byte
	// Offset is the offset of the file's first byte in the v1 piece space, a multiple of
	// PieceLength.
	Offset int64
}

// MetaInfo is a parsed or created .torrent: the tracker URL, the info dict and the v2 piece
// layers. Its methods are safe for concurrent use, except SetPieceLayer.
type MetaInfo struct {
	// Announce is the tracker's announce URL; it is outside the info dict and may be changed.
	Announce string
	// Info is the info dict's content.
	Info Info

	// layers holds each file's v2 piece hashes (BEP 52 "piece layers"), by file index; nil
	// for a file that fits in one piece (its PiecesRoot is its only hash) or whose layer is
	// still missing (FromInfoBytes). Files with the same root share one slice.
	layers [][][32]byte
	// firstPiece is each file's first piece (Offset / PieceLength).
	firstPiece []int
	// infoBytes are the info dict's bencoded bytes exactly as created or received.
	infoBytes  []byte
	infoHashV1 [20]byte
	infoHashV2 [32]byte
}

// newMetaInfo fixes the info bytes and the info-hashes computed from them.
// layers may be nil (none known yet).
func newMetaInfo(announce string, info Info, layers [][][32]byte, infoBytes []byte) *MetaInfo {
	if layers == nil {
		layers = make([][][32]byte, len(info.Files))
	}
	first := make([]int, len(info.Files))
	for k, f := range info.Files {
		first[k] = int(f.Offset / info.PieceLength)
	}
	return &MetaInfo{
		Announce:   announce,
		Info:       info,
		layers:     layers,
		firstPiece: first,
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

// NumPieces is the number of pieces of the v1 piece space.
func (m *MetaInfo) NumPieces() int { return numPieces(m.Info.Length, m.Info.PieceLength) }

// PieceLen is the length of piece i: PieceLength for all but the last, which may be short.
// It is 0 when i is out of range.
func (m *MetaInfo) PieceLen(i int) int {
	if i < 0 || i >= m.NumPieces() {
		return 0
	}
	return int(min(m.Info.PieceLength, m.Info.Length-m.PieceOffset(i)))
}

// PieceOffset is the offset in the v1 piece space of piece i's first byte (in the file, for a
// single-file torrent).
func (m *MetaInfo) PieceOffset(i int) int64 { return int64(i) * m.Info.PieceLength }

// treeLeaves is the leaf count of one piece's merkle subtree in a file of length bytes: a full
// piece's worth when the file has a piece layer, else its blocks padded to a power of two.
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
