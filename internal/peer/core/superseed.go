package core

import (
	"slices"

	"github.com/minibit-io/minibit/internal/wire"
)

// superSeedOffers is how many pieces a super-seeder offers a peer at a time: two keep the
// peer's pipeline busy while it announces the first.
const superSeedOffers = 2

// superSeeding reports whether this peer hides its pieces and offers them one by one (BEP 16):
// Config.SuperSeed on a complete peer.
func (c *Core) superSeeding() bool { return c.cfg.SuperSeed && c.picker.Complete() }

// superSeedLocked tops up the pieces offered to c (BEP 16 super-seeding): a piece c announced
// it holds is no longer offered; each free offer goes to the piece offered least so far (the
// rarest among those on ties), announced to c alone with a Have. So the seeder sends every piece
// about once before it sends any twice, and the leechers spread the rest among themselves.
// A choked peer is offered one piece, uncounted, so that it becomes interested; its offers count
// from its unchoke (offersCounted).
func (c *Core) superSeed(p *peerConn) {
	if !c.superSeeding() {
		return
	}
	p.offered = slices.DeleteFunc(p.offered, func(piece int) bool { return p.has.Has(piece) })
	limit := superSeedOffers
	if p.amChoking {
		limit = 1
	}
	for len(p.offered) < limit {
		piece := c.nextOffer(p)
		if piece < 0 {
			return
		}
		p.offered = append(p.offered, piece)
		if !p.amChoking {
			c.offers[piece]++
		}
		c.send(p.key, haveMessage(piece))
	}
}

// offersCountedLocked counts (delta 1, at an unchoke) or uncounts (delta -1, at a choke) the
// pieces offered to c: only an unchoked peer can take them.
func (c *Core) offersCounted(p *peerConn, delta int32) {
	if !c.superSeeding() {
		return
	}
	for _, piece := range p.offered {
		c.offers[piece] = max(c.offers[piece]+delta, 0)
	}
}

// nextOfferLocked is the piece c lacks and was not offered, offered least often so far (then
// the least available); -1 when c lacks nothing more.
func (c *Core) nextOffer(p *peerConn) int {
	best := -1
	for piece := range c.offers {
		if p.has.Has(piece) || slices.Contains(p.offered, piece) {
			continue
		}
		if best < 0 || c.offers[piece] < c.offers[best] ||
			(c.offers[piece] == c.offers[best] && c.picker.Availability(piece) < c.picker.Availability(best)) {
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
