// Package wire encodes and decodes the BitTorrent peer wire protocol: the handshake, the
// messages of BEP 3, of the fast extension (BEP 6), BitTorrent v2's hash messages (BEP 52), the
// extension protocol (BEP 10) with the metadata extension (BEP 9), and bitfields.
package wire

import (
	"errors"
	"fmt"
)

// BlockSize is the size of one request: the unit in which pieces travel (16 KiB, BEP 3).
const BlockSize = 16 << 10

// Errors of malformed input. Read's errors wrap one of them, or are the connection's own.
var (
	// ErrMalformed is a message or handshake that breaks the protocol.
	ErrMalformed = errors.New("wire: malformed message")
	// ErrTooLong is a message longer than the Reader's bound.
	ErrTooLong = errors.New("wire: message too long")
)

// ID identifies a message type.
type ID uint8

// Message IDs of BEP 3 and of the fast extension (BEP 6).
const (
	Choke         ID = 0
	Unchoke       ID = 1
	Interested    ID = 2
	NotInterested ID = 3
	Have          ID = 4
	// BitfieldMsg is the bitfield message's ID (the name Bitfield is the bit set's type).
	BitfieldMsg ID = 5
	Request     ID = 6
	Piece       ID = 7
	Cancel      ID = 8
	Port        ID = 9
	Suggest     ID = 0x0D
	HaveAll     ID = 0x0E
	HaveNone    ID = 0x0F
	Reject      ID = 0x10
	AllowedFast ID = 0x11
)

var idNames = map[ID]string{
	Choke: "choke", Unchoke: "unchoke", Interested: "interested", NotInterested: "not-interested",
	Have: "have", BitfieldMsg: "bitfield", Request: "request", Piece: "piece", Cancel: "cancel",
	Port: "port", Suggest: "suggest", HaveAll: "have-all", HaveNone: "have-none", Reject: "reject",
	AllowedFast: "allowed-fast", Extended: "extended", HashRequest: "hash-request", Hashes: "hashes", HashReject: "hash-reject",
}

// String names the message type, for logs.
func (id ID) String() string {
	if name, ok := idNames[id]; ok {
		return name
	}
	return fmt.Sprintf("unknown(%d)", uint8(id))
}

// Fast reports whether the message belongs to the fast extension (BEP 6): a peer may send it
// only when both handshakes set the fast bit.
func (id ID) Fast() bool { return id >= Suggest && id <= AllowedFast }

// Message is one peer wire message. Which fields count depends on ID:
//   - Have, Suggest, AllowedFast: Index.
//   - Request, Cancel, Reject: Index, Begin, Length.
//   - Piece: Index, Begin, and the block in Payload (Read also sets Length to its size).
//   - BitfieldMsg: the bitfield bytes in Payload.
//   - HashRequest, Hashes, HashReject: the raw payload in Payload (ParseHashRange, ParseHashes).
//   - Extended: its extended id and body in Payload (ParseExtended).
//   - Port: Port.
//
// A message from Reader.Read aliases the reader's buffer in Payload until the next Read.
type Message struct {
	// KeepAlive marks the empty keep-alive message; ID and the rest are then unused.
	KeepAlive bool
	ID        ID
	Index     uint32
	Begin     uint32
	Length    uint32
	Port      uint16
	Payload   []byte
}

// String describes the message for logs, without its payload bytes.
func (m Message) String() string {
	switch {
	case m.KeepAlive:
		return "keep-alive"
	case m.ID == Have || m.ID == Suggest || m.ID == AllowedFast:
		return fmt.Sprintf("%v(%d)", m.ID, m.Index)
	case m.ID == Request || m.ID == Cancel || m.ID == Reject:
		return fmt.Sprintf("%v(%d, %d, %d)", m.ID, m.Index, m.Begin, m.Length)
	case m.ID == Piece:
		return fmt.Sprintf("piece(%d, %d, %d bytes)", m.Index, m.Begin, len(m.Payload))
	case m.ID == BitfieldMsg:
		return fmt.Sprintf("bitfield(%d bytes)", len(m.Payload))
	case m.ID == HashRequest || m.ID == Hashes || m.ID == HashReject || m.ID == Extended:
		return fmt.Sprintf("%v(%d bytes)", m.ID, len(m.Payload))
	case m.ID == Port:
		return fmt.Sprintf("port(%d)", m.Port)
	}
	return m.ID.String()
}

// fixedPayload returns the exact payload size (after the ID byte) of a fixed-size message,
// and false for Bitfield, Piece and unknown IDs.
func fixedPayload(id ID) (int, bool) {
	switch id {
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
		return 0, true
	case Have, Suggest, AllowedFast:
		return 4, true
	case Request, Cancel, Reject:
		return 12, true
	case Port:
		return 2, true
	case HashRequest, HashReject:
		return hashRangeSize, true
	}
	return 0, false
}

// pieceHeaderSize is the size of a Piece message's index and begin fields.
const pieceHeaderSize = 8
