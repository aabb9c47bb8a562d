package metainfo

// Piece size and torrent size limits that follow the payload.

const (
	// autoMaxPieces is the number of pieces AutoPieceLength aims to stay under.
	autoMaxPieces = 32768
	// autoMaxPieceLength caps AutoPieceLength.
	autoMaxPieceLength = 16 << 20
	// perFileBytes bounds one file's share of a .torrent besides its piece hashes: its path twice
	// (v1 "files" and v2 "file tree", up to Linux's PATH_MAX of 4096 bytes each), a pad file
	// entry, its pieces root and its piece layers key, with their bencode framing.
	perFileBytes = 2*4096 + 512
	// fixedTorrentBytes is the rest of a .torrent: announce, name and other keys.
	fixedTorrentBytes = 64 << 10
)

// AutoPieceLength is the piece length of the "Auto" piece size for a payload of total bytes:
// DefaultPieceLength (256 KiB) up to 8 GiB, then doubled until the payload has at most 32768
// pieces, capped at 16 MiB.
func AutoPieceLength(total int64) int64 {
	pl := int64(DefaultPieceLength)
	for pl < autoMaxPieceLength && numPieces(total, pl) > autoMaxPieces {
		pl *= 2
	}
	return pl
}

// MaxTorrentBytesFor is a safe upper bound of the size of the encoded .torrent of a payload of
// payload bytes in files files with this piece length: 20 (v1) + 32 (v2 piece layer) bytes per
// piece, counting each file's partial last piece, plus perFileBytes per file and 64 KiB. The
// tracker, the operator and the metadata fetcher use it as their limit (not as an allocation).
func MaxTorrentBytesFor(payload int64, pieceLength int64, files int) int64 {
	if pieceLength <= 0 {
		pieceLength = DefaultPieceLength
	}
	files = max(files, 1)
	pieces := max(payload, 0)/pieceLength + int64(files)
	return pieces*(20+hashSize) + int64(files)*perFileBytes + fixedTorrentBytes
}
