package peer

import (
	"slices"

	"github.com/minibit-io/minibit/internal/wire"
)

// superSeedOffers is how many pieces a super-seeder offers a peer at a time: two keep the
// peer's pipeline busy while it announces the first.
const superSeedOffers = 2

// superSeeding reports whether this session hides its pieces and offers them one by one (BEP 16):
// Config.SuperSeed on a complete peer.
func (s *Session) superSeeding() bool { return s.cfg.SuperSeed && s.picker.Complete() }

// superSeedLocked tops up the pieces offered to c (BEP 16 super-seeding): a piece c announced
// it holds is no longer offered; each free offer goes to the piece offered least so far (the
// rarest among those on ties), announced to c alone with a Have. So the seeder sends every piece
// about once before it sends any twice, and the leechers spread the rest among themselves.
// A choked peer is offered one piece, uncounted, so that it becomes interested; its offers count
// from its unchoke (offersCountedLocked).
func (s *Session) superSeedLocked(c *conn) {
	if !s.superSeeding() {
		return
	}
	c.offered = slices.DeleteFunc(c.offered, func(piece int) bool { return c.has.Has(piece) })
	limit := superSeedOffers
	if c.amChoking {
		limit = 1
	}
	for len(c.offered) < limit {
		piece := s.nextOfferLocked(c)
		if piece < 0 {
			return
		}
		c.offered = append(c.offered, piece)
		if !c.amChoking {
			s.offers[piece]++
		}
		c.send(haveMessage(piece))
	}
}

// offersCountedLocked counts (delta 1, at an unchoke) or uncounts (delta -1, at a choke) the
// pieces offered to c: only an unchoked peer can take them.
func (s *Session) offersCountedLocked(c *conn, delta int32) {
	if !s.superSeeding() {
		return
	}
	for _, piece := range c.offered {
		s.offers[piece] = max(s.offers[piece]+delta, 0)
	}
}

// nextOfferLocked is the piece c lacks and was not offered, offered least often so far (then
// the least available); -1 when c lacks nothing more.
func (s *Session) nextOfferLocked(c *conn) int {
	best := -1
	for piece := range s.offers {
		if c.has.Has(piece) || slices.Contains(c.offered, piece) {
			continue
		}
		if best < 0 || s.offers[piece] < s.offers[best] ||
			(s.offers[piece] == s.offers[best] && s.picker.Availability(piece) < s.picker.Availability(best)) {
			best = piece
		}
	}
	return best
}

// superSeedBitfield is a super-seeder's first message: it claims no piece.
func superSeedBitfield(fast bool, numPieces int) wire.Message {
	if fast {
		return wire.Message{ID: wire.HaveNone}
	}
	return wire.Message{ID: wire.BitfieldMsg, Payload: wire.NewBitfield(numPieces)}
}
