package wire

import (
	"bytes"
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// The extension protocol (BEP 10): peers that both set the extension bit may send extended
// messages (id 20), whose first payload byte names the extension (0 is the extension
// handshake, a bencoded dict); the handshake's "m" dict maps extension names to the ids the
// sender wants to receive them under.

// Extended is the message id of BEP 10: an extended message's Payload is its extended id (one
// byte) followed by the extension's body (ExtendedMessage, ParseExtended).
const Extended ID = 20

// ExtHandshakeID is the extended id of the extension handshake.
const ExtHandshakeID = 0

// extendedBit is BEP 10's reserved bit: reserved[5] & 0x10.
const extendedBit = 0x10

// maxExtendedPayload bounds an extended message's payload: its id, a ut_metadata dict (or an
// extension handshake) and a metadata piece of MetadataPieceSize.
const maxExtendedPayload = 1 + MetadataPieceSize + 4<<10

// Bounds of the extension handshake's decode: what a peer can make us keep.
const (
	// MaxExtensions bounds the entries of the handshake's "m" dict and of the dict itself.
	MaxExtensions = 64
	// maxExtNameLen bounds an extension's name.
	maxExtNameLen = 64
	// maxClientNameLen bounds the "v" string kept (a longer one is cut).
	maxClientNameLen = 128
	// maxBencodeDepth bounds the nesting of any dict an extension message carries.
	maxBencodeDepth = 4
)

// SetExtended sets the extension protocol's bit (BEP 10).
func (h *Handshake) SetExtended() { h.Reserved[5] |= extendedBit }

// Extended reports whether the extension protocol's bit is set (BEP 10).
func (h Handshake) Extended() bool { return h.Reserved[5]&extendedBit != 0 }

// ExtendedMessage returns an extended message for extended id ext carrying body.
func ExtendedMessage(ext uint8, body []byte) Message {
	p := make([]byte, 0, 1+len(body))
	return Message{ID: Extended, Payload: append(append(p, ext), body...)}
}

// ParseExtended splits an extended message's payload into its extended id and body (which
// aliases the payload).
func ParseExtended(payload []byte) (ext uint8, body []byte, err error) {
	if len(payload) < 1 {
		return 0, nil, fmt.Errorf("%w: extended message without its extended id", ErrMalformed)
	}
	return payload[0], payload[1:], nil
}

// checkExtendedLength checks the payload length of an extended message: its id byte, within
// maxExtendedPayload.
func checkExtendedLength(n int) error {
	if n > maxExtendedPayload {
		return fmt.Errorf("%w: extended message of %d bytes, the bound is %d", ErrTooLong, n, maxExtendedPayload)
	}
	if n < 1 {
		return fmt.Errorf("%w: extended message without its extended id", ErrMalformed)
	}
	return nil
}

// ExtHandshake is the extension handshake's dict (BEP 10), with BEP 9's metadata_size.
type ExtHandshake struct {
	// M maps the extensions the sender speaks to the extended ids it receives them under.
	M map[string]uint8
	// V is the client's name and version (cut to maxClientNameLen bytes).
	V string
	// P is the sender's listen port (0: not said).
	P uint16
	// Reqq is how many outstanding requests the sender accepts (0: not said).
	Reqq int
	// MetadataSize is the size of the info dict the sender can serve (0: not said).
	MetadataSize int64
}

// Body encodes the handshake's dict. Zero fields are left out.
func (h ExtHandshake) Body() []byte {
	d := map[string]any{"m": h.M}
	if h.M == nil {
		d["m"] = map[string]uint8{}
	}
	if h.V != "" {
		d["v"] = h.V
	}
	if h.P != 0 {
		d["p"] = h.P
	}
	if h.Reqq > 0 {
		d["reqq"] = h.Reqq
	}
	if h.MetadataSize > 0 {
		d["metadata_size"] = h.MetadataSize
	}
	b, err := bencode.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("wire: encoding an extension handshake: %v", err)) // ints and strings only
	}
	return b
}

// ParseExtHandshake decodes an extension handshake's dict. It keeps what it knows (unknown keys
// and extensions with a wrong type are ignored, as BEP 10 asks) and refuses, with an error
// wrapping ErrMalformed, a body that is not one dict, more than MaxExtensions keys or
// extensions, an extension name longer than 64 bytes, a negative metadata_size or reqq.
func ParseExtHandshake(body []byte) (ExtHandshake, error) {
	top, err := decodeBoundedDict(body)
	if err != nil {
		return ExtHandshake{}, err
	}
	var h ExtHandshake
	if raw, ok := top["m"]; ok {
		if h.M, err = parseExtensionMap(raw); err != nil {
			return ExtHandshake{}, err
		}
	}
	if v, ok := bencodeString(top["v"]); ok {
		h.V = v[:min(len(v), maxClientNameLen)]
	}
	if p, ok := bencodeInt(top["p"]); ok && p > 0 && p <= 0xFFFF {
		h.P = uint16(p)
	}
	if q, ok := bencodeInt(top["reqq"]); ok {
		if q < 0 {
			return ExtHandshake{}, fmt.Errorf("%w: extension handshake with reqq %d", ErrMalformed, q)
		}
		h.Reqq = int(min(q, 1<<20))
	}
	if n, ok := bencodeInt(top["metadata_size"]); ok {
		if n < 0 {
			return ExtHandshake{}, fmt.Errorf("%w: extension handshake with metadata_size %d", ErrMalformed, n)
		}
		h.MetadataSize = n
	}
	return h, nil
}

// parseExtensionMap decodes the "m" dict: names to ids in 0..255 (0: disabled, kept so that a
// peer can turn an extension off).
func parseExtensionMap(raw bencode.Bytes) (map[string]uint8, error) {
	d, err := decodeBoundedDict(raw)
	if err != nil {
		return nil, fmt.Errorf("extension handshake's m: %w", err)
	}
	m := make(map[string]uint8, len(d))
	for name, v := range d {
		if len(name) > maxExtNameLen {
			return nil, fmt.Errorf("%w: extension name of %d bytes", ErrMalformed, len(name))
		}
		if id, ok := bencodeInt(v); ok && id >= 0 && id <= 0xFF {
			m[name] = uint8(id)
		}
	}
	return m, nil
}

// decodeBoundedDict decodes b as exactly one bencoded dict (decodeDictPrefix's bounds).
func decodeBoundedDict(b []byte) (map[string]bencode.Bytes, error) {
	d, n, err := decodeDictPrefix(b)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("%w: %d bytes after the dict", ErrMalformed, len(b)-n)
	}
	return d, nil
}

// decodeDictPrefix decodes the bencoded dict that starts b, keeping its values encoded, with
// at most MaxExtensions keys and maxBencodeDepth levels, and returns it with its length.
func decodeDictPrefix(b []byte) (map[string]bencode.Bytes, int, error) {
	if len(b) == 0 || b[0] != 'd' {
		return nil, 0, fmt.Errorf("%w: not a bencoded dict", ErrMalformed)
	}
	dec := bencode.NewDecoder(bytes.NewReader(b))
	dec.MaxDepth = maxBencodeDepth
	dec.MaxStrLen = int64(len(b))
	var d map[string]bencode.Bytes
	if err := dec.Decode(&d); err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(d) > MaxExtensions {
		return nil, 0, fmt.Errorf("%w: dict of %d keys, the bound is %d", ErrMalformed, len(d), MaxExtensions)
	}
	return d, int(dec.Offset), nil
}

// bencodeInt decodes raw as an integer; false when absent or not one.
func bencodeInt(raw bencode.Bytes) (int64, bool) {
	if len(raw) == 0 || raw[0] != 'i' {
		return 0, false
	}
	var n int64
	if err := bencode.Unmarshal(raw, &n); err != nil {
		return 0, false
	}
	return n, true
}

// bencodeString decodes raw as a string; false when absent or not one.
func bencodeString(raw bencode.Bytes) (string, bool) {
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' {
		return "", false
	}
	var s string
	if err := bencode.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}
