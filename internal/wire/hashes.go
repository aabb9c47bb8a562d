package wire

import (
	"encoding/binary"
	"fmt"
)

// BitTorrent v2's hash messages (BEP 52): a peer asks for a range of one file's merkle tree
// (hash request), and is answered with the hashes or refused (hash reject). Their payloads are
// decoded by ParseHashRequest and ParseHashes from a Message's Payload; Read checks their lengths.

// Message IDs of BEP 52.
const (
	HashRequest ID = 21
	Hashes      ID = 22
	HashReject  ID = 23
)

// MaxHashes is the most base-layer hashes a request may ask for: BEP 52's "Length SHOULD NOT be
// greater than 512".
const MaxHashes = 512

// maxProofHashes bounds the uncle hashes after the base layer: one per tree layer above it, and
// a tree of 2^32 leaves has 32 layers.
const maxProofHashes = 32

// hashRangeSize is the payload of a hash request or hash reject: pieces root, base layer, index,
// length, proof layers.
const hashRangeSize = 32 + 4*4

// maxHashesPayload bounds a Hashes message's payload: the range, MaxHashes and the proof.
const maxHashesPayload = hashRangeSize + (MaxHashes+maxProofHashes)*32

// hashesBit is the reserved bit by which MiniBit says it speaks the hash messages on a v1
// connection: reserved[6] & 0x01, a bit BEP 4 does not allocate. BEP 52's own bit (reserved[7]
// & 0x10) asks to upgrade the connection to the v2 info-hash, which MiniBit does not do, and a
// client that does not know the messages may close the connection on one; so they are sent only
// to a peer that set this bit.
const hashesBit = 0x01

// SetHashes sets the bit that says we speak BEP 52's hash messages.
func (h *Handshake) SetHashes() { h.Reserved[6] |= hashesBit }

// Hashes reports whether the peer said it speaks BEP 52's hash messages.
func (h Handshake) Hashes() bool { return h.Reserved[6]&hashesBit != 0 }

// HashRange is the payload of a hash request or hash reject, and the head of a hashes message.
type HashRange struct {
	// PiecesRoot is the root of the file's merkle tree.
	PiecesRoot [32]byte
	// BaseLayer is the layer of the hashes asked for: 0 is the leaves (16 KiB blocks).
	BaseLayer uint32
	// Index is the first hash's offset in the base layer, a multiple of Length.
	Index uint32
	// Length is how many base-layer hashes: a power of two, at least 2.
	Length uint32
	// ProofLayers is how many ancestor layers' uncle hashes to add.
	ProofLayers uint32
}

// Message returns a hash request or hash reject (id) for the range.
func (h HashRange) Message(id ID) Message {
	return Message{ID: id, Payload: h.appendTo(make([]byte, 0, hashRangeSize))}
}

// HashesMessage returns a hashes message: the range, then the hashes (32 bytes each, the base
// layer first, then the uncles).
func (h HashRange) HashesMessage(hashes []byte) Message {
	p := h.appendTo(make([]byte, 0, hashRangeSize+len(hashes)))
	return Message{ID: Hashes, Payload: append(p, hashes...)}
}

func (h HashRange) appendTo(dst []byte) []byte {
	dst = append(dst, h.PiecesRoot[:]...)
	dst = binary.BigEndian.AppendUint32(dst, h.BaseLayer)
	dst = binary.BigEndian.AppendUint32(dst, h.Index)
	dst = binary.BigEndian.AppendUint32(dst, h.Length)
	return binary.BigEndian.AppendUint32(dst, h.ProofLayers)
}

// Valid checks the rules BEP 52 sets on a range: Length a power of two, at least 2, Index a
// multiple of Length, and at most maxProofHashes proof and base layers. A Length above MaxHashes
// is valid (BEP 52 only says it SHOULD NOT be): a request for it is rejected, not a protocol
// error, and a hashes message cannot carry it (Read's bound).
func (h HashRange) Valid() error {
	switch {
	case h.Length < 2 || h.Length&(h.Length-1) != 0:
		return fmt.Errorf("%w: hash range of length %d (a power of two, at least 2)", ErrMalformed, h.Length)
	case h.Index%h.Length != 0:
		return fmt.Errorf("%w: hash range index %d is not a multiple of its length %d", ErrMalformed, h.Index, h.Length)
	case h.ProofLayers > maxProofHashes || h.BaseLayer > maxProofHashes:
		return fmt.Errorf("%w: hash range of base layer %d and %d proof layers", ErrMalformed, h.BaseLayer, h.ProofLayers)
	}
	return nil
}

// ParseHashRange decodes the payload of a hash request or hash reject and checks it (Valid).
func ParseHashRange(p []byte) (HashRange, error) {
	if len(p) != hashRangeSize {
		return HashRange{}, fmt.Errorf("%w: hash range of %d bytes, want %d", ErrMalformed, len(p), hashRangeSize)
	}
	h := decodeHashRange(p)
	return h, h.Valid()
}

// ParseHashes decodes a hashes message's payload: its range (checked by Valid) and its hashes,
// which alias p. There must be at least Length hashes (the base layer) and at most
// maxProofHashes more (the uncles).
func ParseHashes(p []byte) (HashRange, []byte, error) {
	if len(p) < hashRangeSize || (len(p)-hashRangeSize)%32 != 0 {
		return HashRange{}, nil, fmt.Errorf("%w: hashes message of %d bytes", ErrMalformed, len(p))
	}
	h := decodeHashRange(p)
	if err := h.Valid(); err != nil {
		return HashRange{}, nil, err
	}
	hashes := p[hashRangeSize:]
	if n := uint32(len(hashes) / 32); n < h.Length || n > h.Length+maxProofHashes {
		return HashRange{}, nil, fmt.Errorf("%w: %d hashes for a range of %d", ErrMalformed, n, h.Length)
	}
	return h, hashes, nil
}

func decodeHashRange(p []byte) HashRange {
	var h HashRange
	copy(h.PiecesRoot[:], p)
	h.BaseLayer = binary.BigEndian.Uint32(p[32:])
	h.Index = binary.BigEndian.Uint32(p[36:])
	h.Length = binary.BigEndian.Uint32(p[40:])
	h.ProofLayers = binary.BigEndian.Uint32(p[44:])
	return h
}

// checkHashesLength checks the payload length of a hashes message: the range and whole hashes,
// within maxHashesPayload.
func checkHashesLength(n int) error {
	if n > maxHashesPayload {
		return fmt.Errorf("%w: hashes message of %d bytes, the bound is %d", ErrTooLong, n, maxHashesPayload)
	}
	if n < hashRangeSize+2*32 || (n-hashRangeSize)%32 != 0 {
		return fmt.Errorf("%w: hashes message of %d payload bytes", ErrMalformed, n)
	}
	return nil
}
