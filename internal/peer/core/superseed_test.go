package core

import (
	"net/netip"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// A super-seeder's first message claims nothing; a plain seeder's claims everything.
func TestSuperSeederHidesItsPieces(t *testing.T) {
	meta := testMeta(t, 256<<10, 32<<10)
	have := allPieces(meta.NumPieces())
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

// superSeedingCore is a super-seeder of 64 one-block pieces with the default 4 + 1 slots.
func superSeedingCore(t *testing.T) (*Core, time.Time) {
	t.Helper()
	meta := testMeta(t, 64*blockLength, blockLength)
	have := allPieces(meta.NumPieces())
	now := time.Unix(1000, 0)
	c, err := New(Config{Torrent: meta, Have: have, SuperSeed: true, RandSeed: 1}, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	return c, now
}

// superSeedSwarm plays the leechers of a super-seeder: every offer (a Have to one peer) is
// answered with Interested, as a leecher that lacks the piece does, and an unchoked leecher
// downloads each piece it was offered and announces it (a Have, which tops its offers up),
// unless another leecher announced it first: then it would take it from that one.
type superSeedSwarm struct {
	t                       *testing.T
	c                       *Core
	now                     time.Time
	offered                 map[ConnKey][]int
	everOffered, downloaded map[int]bool
}

// takeOffers drains the core's effects and checks each offer: never to a choked peer, and
// never a piece some leecher holds while a piece was never offered.
func (s *superSeedSwarm) takeOffers() {
	s.t.Helper()
	for effects := s.c.Effects(); len(effects) > 0; effects = s.c.Effects() {
		for _, e := range effects {
			if e.Kind != Send || e.Msg.ID != wire.Have {
				continue
			}
			piece := int(e.Msg.Index)
			if s.c.conns[e.Conn].amChoking {
				s.t.Errorf("choked peer %d offered piece %d", e.Conn, piece)
			}
			if s.downloaded[piece] && len(s.everOffered) < s.c.meta.NumPieces() {
				s.t.Errorf("piece %d offered again after it was downloaded, while %d pieces were never offered", piece, s.c.meta.NumPieces()-len(s.everOffered))
			}
			s.everOffered[piece] = true
			s.offered[e.Conn] = append(s.offered[e.Conn], piece)
			mustReceive(s.t, s.c, s.now, e.Conn, wire.Message{ID: wire.Interested})
		}
	}
}

// round plays one choke round: the unchoked leechers download their offers, twice over.
func (s *superSeedSwarm) round(keys []ConnKey) {
	s.t.Helper()
	for range 2 {
		s.takeOffers()
		for _, key := range keys {
			p := s.c.conns[key]
			for _, piece := range s.offered[key] {
				if !p.amChoking && !s.downloaded[piece] {
					mustReceive(s.t, s.c, s.now, key, wire.Message{ID: wire.Have, Index: uint32(piece)})
					s.downloaded[piece] = true
				}
			}
		}
	}
	s.takeOffers()
}

// A super-seeder with more leechers than upload slots offers pieces only to the peers it
// unchokes, and unchokes leechers before they are interested (they see no piece to be
// interested in), so its slots stay full. It does not offer a piece a leecher holds while some
// piece was never offered. The rule before gave a choked peer one offer "to make it
// interested", the same piece to every choked peer, and each took it from the seeder once
// unchoked, after its first copy was out: the lab's scale scenario sent 14 % of the file twice
// before every piece existed.
func TestSuperSeederOffersOnlyToUnchokedPeersAndEachPieceOnce(t *testing.T) {
	c, now := superSeedingCore(t)
	s := &superSeedSwarm{t: t, c: c, now: now, offered: map[ConnKey][]int{}, everOffered: map[int]bool{}, downloaded: map[int]bool{}}
	var keys []ConnKey
	for i := 1; i <= 20; i++ {
		addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 1)
		key := connect(t, c, now, PeerInfo{ID: [20]byte{byte(i)}, Addr: addr, Fast: true})
		mustReceive(t, c, now, key, wire.Message{ID: wire.HaveNone})
		s.takeOffers()
		keys = append(keys, key)
	}
	for round := range 6 {
		unchoked := 0
		for _, key := range keys {
			if !c.conns[key].amChoking {
				unchoked++
			}
		}
		if unchoked != 5 {
			t.Errorf("round %d: %d peers unchoked, want the 5 slots filled", round, unchoked)
		}
		s.round(keys)
		s.now = s.now.Add(10 * time.Second)
		c.ChokeRound(s.now)
		s.takeOffers()
	}
	if len(s.downloaded) < 6*5*2 {
		t.Errorf("%d pieces downloaded in 6 rounds of 5 peers, want at least 2 per peer and round", len(s.downloaded))
	}
}
