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

// superSeed tops up the pieces offered to p (BEP 16 super-seeding): a piece p announced it
// holds is no longer offered; each free offer goes to the piece offered least so far (the
// rarest among those on ties), announced to p alone with a Have. So the seeder sends every piece
// about once before it sends any twice, and the leechers spread the rest among themselves.
//
// Only an unchoked peer is offered pieces: a choked one could not take them, and whatever it
// was offered it asks for once unchoked, maybe after that piece's first copy went to another
// peer. (Offering every choked peer one piece so that it becomes interested gave them all the
// same one, which each later took from the seeder: 14 % of the file sent twice before every
// piece existed in the lab's scale scenario.) Instead a super-seeder's slots go to leechers
// whether or not they are interested (wantsUpload), and the unchoke brings their offers.
func (c *Core) superSeed(p *peerConn) {
	if !c.superSeeding() || p.amChoking {
		return
	}
	p.offered = slices.DeleteFunc(p.offered, func(piece int) bool { return p.has.Has(piece) })
	for len(p.offered) < superSeedOffers {
		piece := c.nextOffer(p)
		if piece < 0 {
			return
		}
		p.offered = append(p.offered, piece)
		c.offers[piece]++
		c.send(p.key, haveMessage(piece))
	}
}

// wantsUpload reports whether p is a candidate for an upload slot: it is interested, or we
// super-seed and it lacks pieces (it cannot be interested before its unchoke brings offers).
func (c *Core) wantsUpload(p *peerConn) bool {
	return p.peerInterested || (c.superSeeding() && !p.isSeed(c.meta.NumPieces()))
}

// offersCounted counts (delta 1, at an unchoke) or uncounts (delta -1, at a choke) the
// pieces offered to p: only an unchoked peer can take them, so a choked peer's offers are
// offered again to others.
func (c *Core) offersCounted(p *peerConn, delta int32) {
	if !c.superSeeding() {
		return
	}
	for _, piece := range p.offered {
		c.offers[piece] = max(c.offers[piece]+delta, 0)
	}
}

// nextOffer is the piece p lacks and was not offered, offered least often so far (then
// the least available); -1 when p lacks nothing more.
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
