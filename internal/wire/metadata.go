package wire

import (
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// The metadata extension (BEP 9, "ut_metadata" over BEP 10): the info dict travels in pieces of
// MetadataPieceSize bytes (the last may be shorter). A request names a piece; the answer is a
// data message (a bencoded dict followed by the piece's bytes) or a reject.

// UTMetadata is the metadata extension's name in the extension handshake's "m" dict.
const UTMetadata = "ut_metadata"

// MetadataPieceSize is the size of every metadata piece but the last (16 KiB, BEP 9).
const MetadataPieceSize = 16 << 10

// MaxMetadataSize bounds the total_size and metadata_size a message may carry (1 GiB): a sanity
// bound of the codec; a fetcher applies its own, far smaller, limit.
const MaxMetadataSize = 1 << 30

// MetadataType is a ut_metadata message's msg_type.
type MetadataType int

// The ut_metadata message types of BEP 9.
const (
	MetadataRequest MetadataType = 0
	MetadataData    MetadataType = 1
	MetadataReject  MetadataType = 2
)

// MetadataMsg is one ut_metadata message.
type MetadataMsg struct {
	Type  MetadataType
	Piece int
	// TotalSize is the info dict's size (data messages only).
	TotalSize int64
	// Data is the piece's bytes (data messages only); from ParseMetadataMsg it aliases the body.
	Data []byte
}

// MetadataPieces is the number of metadata pieces of an info dict of size bytes.
func MetadataPieces(size int64) int {
	return int((size + MetadataPieceSize - 1) / MetadataPieceSize)
}

// Body encodes the message: its dict, then Data for a data message.
func (m MetadataMsg) Body() []byte {
	d := map[string]int64{"msg_type": int64(m.Type), "piece": int64(m.Piece)}
	if m.Type == MetadataData {
		d["total_size"] = m.TotalSize
	}
	b, err := bencode.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("wire: encoding a ut_metadata message: %v", err)) // ints only
	}
	if m.Type == MetadataData {
		b = append(b, m.Data...)
	}
	return b
}

// ParseMetadataMsg decodes a ut_metadata body. It refuses, with an error wrapping ErrMalformed,
// a body that does not start with a bounded dict, a missing or negative msg_type or piece, a
// piece index past MaxMetadataSize's pieces, a data message without total_size or with one
// outside 1..MaxMetadataSize, data longer than MetadataPieceSize, and bytes after the dict of
// any other type. A msg_type it does not know is returned as it is (BEP 9: ignore it).
func ParseMetadataMsg(body []byte) (MetadataMsg, error) {
	d, n, err := decodeDictPrefix(body)
	if err != nil {
		return MetadataMsg{}, err
	}
	typ, okType := bencodeInt(d["msg_type"])
	piece, okPiece := bencodeInt(d["piece"])
	if !okType || !okPiece || typ < 0 || piece < 0 || piece >= int64(MetadataPieces(MaxMetadataSize)) {
		return MetadataMsg{}, fmt.Errorf("%w: ut_metadata message without a valid msg_type and piece", ErrMalformed)
	}
	m := MetadataMsg{Type: MetadataType(min(typ, 1<<16)), Piece: int(piece)}
	rest := body[n:]
	if m.Type != MetadataData {
		if len(rest) != 0 && m.Type <= MetadataReject {
			return MetadataMsg{}, fmt.Errorf("%w: %d bytes after a ut_metadata %d message", ErrMalformed, len(rest), m.Type)
		}
		return m, nil
	}
	total, ok := bencodeInt(d["total_size"])
	if !ok || total <= 0 || total > MaxMetadataSize {
		return MetadataMsg{}, fmt.Errorf("%w: ut_metadata data without a valid total_size", ErrMalformed)
	}
	if len(rest) > MetadataPieceSize {
		return MetadataMsg{}, fmt.Errorf("%w: ut_metadata piece of %d bytes, the bound is %d", ErrMalformed, len(rest), MetadataPieceSize)
	}
	m.TotalSize, m.Data = total, rest
	return m, nil
}

// MetadataPiece returns piece i of info (a slice of it), or false when i is out of range.
func MetadataPiece(info []byte, i int) ([]byte, bool) {
	if i < 0 || i >= MetadataPieces(int64(len(info))) {
		return nil, false
	}
	start := i * MetadataPieceSize
	return info[start:min(start+MetadataPieceSize, len(info))], true
}
