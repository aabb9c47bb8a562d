package wire

import (
	"errors"
	"testing"
)

func TestBitfield(t *testing.T) {
	b := NewBitfield(10)
	if len(b) != 2 || b.Count() != 0 {
		t.Fatalf("NewBitfield(10) = % x", b)
	}
	b.Set(0)
	b.Set(9)
	b.Set(3)
	if b[0] != 0x90 || b[1] != 0x40 {
		t.Fatalf("bits % x, want 90 40 (high bit of byte 0 is piece 0)", b)
	}
	if !b.Has(0) || !b.Has(9) || b.Has(1) || b.Count() != 3 {
		t.Fatal("Has or Count is wrong")
	}
	b.Clear(0)
	if b.Has(0) || b.Count() != 2 {
		t.Fatal("Clear did not clear")
	}
	// Out of range: absent, and setting does nothing (no panic).
	b.Set(-1)
	b.Set(16)
	b.Clear(100)
	if b.Has(-1) || b.Has(16) || b.Count() != 2 {
		t.Fatal("an out-of-range index changed the set")
	}
	c := b.Clone()
	c.Set(1)
	if b.Has(1) {
		t.Fatal("Clone shares memory")
	}
}

func TestNewFullBitfield(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 17} {
		b := NewFullBitfield(n)
		if b.Count() != n {
			t.Errorf("NewFullBitfield(%d) has %d pieces", n, b.Count())
		}
		if _, err := ParseBitfield(b, n); err != nil {
			t.Errorf("NewFullBitfield(%d) is not a valid bitfield: %v", n, err)
		}
	}
}

func TestParseBitfield(t *testing.T) {
	p := []byte{0xFF, 0xE0}
	b, err := ParseBitfield(p, 11)
	if err != nil || b.Count() != 11 {
		t.Fatalf("ParseBitfield: %v, count %d", err, b.Count())
	}
	p[0] = 0
	if !b.Has(0) {
		t.Fatal("ParseBitfield does not copy the payload")
	}
	for name, tc := range map[string]struct {
		p []byte
		n int
	}{
		"too short":       {[]byte{0xFF}, 11},
		"too long":        {[]byte{0xFF, 0, 0}, 11},
		"spare bit set":   {[]byte{0xFF, 0xF0}, 11},
		"last spare bit":  {[]byte{0x00, 0x01}, 15},
		"negative pieces": {nil, -1},
	} {
		if _, err := ParseBitfield(tc.p, tc.n); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if _, err := ParseBitfield([]byte{0x01}, 8); err != nil {
		t.Errorf("a full last byte has no spare bits: %v", err)
	}
}
