package core

import (
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// Choking mechanics: the choker (choker.go) decides whom to upload to once per round; here the
// decision is applied (Choke and Unchoke messages, a choked peer's queued requests dropped with
// a Reject each for a fast peer), and a slot freed between rounds is handed on at once.

// ChokeRound runs one round of the choker (every ChokeInterval): the peers it picks are
// unchoked, every other one is choked.
func (c *Core) ChokeRound(now time.Time) {
	cands := make([]Candidate, 0, len(c.conns))
	for _, p := range c.order {
		cands = append(cands, Candidate{
			Key:          p.key,
			Interested:   c.wantsUpload(p),
			DownloadRate: p.down.Rate(now),
			UploadRate:   p.up.Rate(now),
			Contributed:  p.contributed,
			Rarity:       RarityScore(p.has, c.have, c.picker.Availability),
			ConnectedAt:  p.connectedAt,
		})
	}
	unchoke := c.choker.Round(now, cands, c.complete)
	if c.cfg.NoUpload {
		clear(unchoke) // a free-rider serves nobody
	}
	for _, p := range c.order {
		if unchoke[p.key] {
			c.unchoke(p)
		} else {
			c.choke(p)
		}
	}
}

// unchokeIfSlotFree unchokes a newly interested peer (or a super-seeder's new leecher) at once
// when fewer peers than the choker's slots are unchoked, rather than have it wait for the next
// round.
func (c *Core) unchokeIfSlotFree(p *peerConn) {
	if !p.amChoking || c.cfg.NoUpload {
		return
	}
	unchoked := 0
	for _, other := range c.order {
		if !other.amChoking {
			unchoked++
		}
	}
	if unchoked < c.cfg.Choker.UnchokeSlots+c.cfg.Choker.OptimisticSlots {
		c.unchoke(p)
	}
}

// freeSlot chokes p, which lost interest, and hands its upload slot to a peer that wants it now
// rather than at the next round: a slot held by a peer that wants nothing more would otherwise
// idle for up to a choke interval.
func (c *Core) freeSlot(p *peerConn) {
	if p.amChoking {
		return
	}
	c.choke(p)
	for _, other := range c.order {
		if c.wantsUpload(other) && other.amChoking {
			c.unchokeIfSlotFree(other)
			return
		}
	}
}

func (c *Core) unchoke(p *peerConn) {
	if p.amChoking {
		p.amChoking = false
		c.send(p.key, wire.Message{ID: wire.Unchoke})
		c.offersCounted(p, 1)
		c.superSeed(p)
	}
}

// choke chokes p and drops its queued requests (a fast peer gets a Reject for each, as BEP 6
// asks; a BEP 3 peer knows a choke cancels them).
func (c *Core) choke(p *peerConn) {
	if p.amChoking {
		return
	}
	p.amChoking = true
	c.offersCounted(p, -1)
	c.send(p.key, wire.Message{ID: wire.Choke})
	for _, b := range p.uploads {
		if p.Fast {
			c.send(p.key, rejectMessage(b))
		}
	}
	p.uploads = p.uploads[:0]
}
