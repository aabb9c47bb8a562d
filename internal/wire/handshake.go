package wire

import (
	"fmt"
	"io"
)

// Protocol is the protocol string of the BitTorrent handshake.
const Protocol = "BitTorrent protocol"

// HandshakeSize is the size of a handshake: length byte, protocol, reserved, info-hash, peer id.
const HandshakeSize = 1 + len(Protocol) + 8 + 20 + 20

// fastBit is the reserved bit of the fast extension (BEP 6): reserved[7] & 0x04.
const fastBit = 0x04

// Handshake is the first message each side sends.
type Handshake struct {
	// Reserved holds extension bits.
	Reserved [8]byte
	// InfoHash is the v1 info-hash of the torrent the peer wants.
	InfoHash [20]byte
	// PeerID is the sender's peer id.
	PeerID [20]byte
}

// SetFast sets the fast extension's bit (BEP 6).
func (h *Handshake) SetFast() { h.Reserved[7] |= fastBit }

// Fast reports whether the fast extension's bit is set (BEP 6).
func (h Handshake) Fast() bool { return h.Reserved[7]&fastBit != 0 }

// WriteHandshake writes h in one Write call. The caller sets the connection's deadline.
func WriteHandshake(w io.Writer, h Handshake) error {
	var b [HandshakeSize]byte
	b[0] = byte(len(Protocol))
	n := 1 + copy(b[1:], Protocol)
	n += copy(b[n:], h.Reserved[:])
	n += copy(b[n:], h.InfoHash[:])
	copy(b[n:], h.PeerID[:])
	_, err := w.Write(b[:])
	return err
}

// ReadHandshake reads exactly one handshake (nothing past it) and rejects any protocol string
// but BitTorrent's, with an error wrapping ErrMalformed. The caller sets the connection's deadline.
func ReadHandshake(r io.Reader) (Handshake, error) {
	var b [HandshakeSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return Handshake{}, err
	}
	if b[0] != byte(len(Protocol)) || string(b[1:1+len(Protocol)]) != Protocol {
		return Handshake{}, fmt.Errorf("%w: not a BitTorrent handshake (protocol %q)", ErrMalformed,
			b[1:1+min(int(b[0]), len(Protocol))])
	}
	var h Handshake
	n := 1 + len(Protocol)
	n += copy(h.Reserved[:], b[n:])
	n += copy(h.InfoHash[:], b[n:])
	copy(h.PeerID[:], b[n:])
	return h, nil
}
