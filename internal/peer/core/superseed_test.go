package core

import (
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// A super-seeder's first message claims nothing; a plain seeder's claims everything.
func TestSuperSeederHidesItsPieces(t *testing.T) {
	meta := testMeta(t, 256<<10, 32<<10)
	have := make([]bool, meta.NumPieces())
	for i := range have {
		have[i] = true
	}
	seeder := func(superSeed bool) *Core {
		c, err := New(Config{Torrent: meta, Have: have, SuperSeed: superSeed}, nil, time.Unix(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	s := seeder(true)
	if m := s.bitfieldMessage(true); m.ID != wire.HaveNone {
		t.Errorf("super-seeder's first message: %v, want HaveNone", m.ID)
	}
	if m := s.bitfieldMessage(false); m.ID != wire.BitfieldMsg || wire.Bitfield(m.Payload).Count() != 0 {
		t.Errorf("super-seeder's bitfield to a BEP 3 peer: %v with %d pieces, want none", m.ID, wire.Bitfield(m.Payload).Count())
	}
	if m := seeder(false).bitfieldMessage(true); m.ID != wire.HaveAll {
		t.Errorf("plain seeder's first message: %v, want HaveAll", m.ID)
	}
}
