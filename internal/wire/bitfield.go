package wire

import (
	"fmt"
	"math/bits"
)

// Bitfield is a set of piece indexes in BEP 3's bit order: the high bit of byte 0 is piece 0.
// Indexes past its end read as absent, and setting or clearing them does nothing, so that an
// unchecked index from a peer cannot crash us (callers still check indexes against the piece
// count, since the last byte has spare bits).
type Bitfield []byte

// NewBitfield returns an empty bitfield for n pieces.
func NewBitfield(n int) Bitfield { return make(Bitfield, (max(n, 0)+7)/8) }

// NewFullBitfield returns a bitfield of n pieces, all set (what HaveAll means).
func NewFullBitfield(n int) Bitfield {
	b := NewBitfield(n)
	for i := range b {
		b[i] = 0xFF
	}
	if spare := n % 8; spare != 0 {
		b[len(b)-1] = 0xFF << (8 - spare)
	}
	return b
}

// Has reports whether piece i is in the set.
func (b Bitfield) Has(i int) bool {
	return i >= 0 && i/8 < len(b) && b[i/8]&(0x80>>(i%8)) != 0
}

// Set adds piece i.
func (b Bitfield) Set(i int) {
	if i >= 0 && i/8 < len(b) {
		b[i/8] |= 0x80 >> (i % 8)
	}
}

// Clear removes piece i.
func (b Bitfield) Clear(i int) {
	if i >= 0 && i/8 < len(b) {
		b[i/8] &^= 0x80 >> (i % 8)
	}
}

// Count is the number of pieces in the set.
func (b Bitfield) Count() int {
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return n
}

// Clone returns a copy of b.
func (b Bitfield) Clone() Bitfield { return append(Bitfield(nil), b...) }

// ParseBitfield checks a bitfield message's payload for a torrent of n pieces and returns a copy
// of it: the length must be ceil(n/8) bytes and the spare bits of the last byte zero (BEP 3).
func ParseBitfield(p []byte, n int) (Bitfield, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: bitfield for %d pieces", ErrMalformed, n)
	}
	if want := (n + 7) / 8; len(p) != want {
		return nil, fmt.Errorf("%w: bitfield of %d bytes, want %d for %d pieces", ErrMalformed, len(p), want, n)
	}
	if spare := n % 8; spare != 0 && p[len(p)-1]&(0xFF>>spare) != 0 {
		return nil, fmt.Errorf("%w: bitfield has spare bits set past piece %d", ErrMalformed, n-1)
	}
	return Bitfield(p).Clone(), nil
}
