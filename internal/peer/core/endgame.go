package core

import "github.com/minibit-io/minibit/internal/wire"

// The endgame: once every missing block is requested from some peer, a block still
// outstanding is also asked of a second peer (at most EndgameHolders in all), so that the
// download does not wait on the slowest holder; the first copy that arrives wins and the other
// holders get a Cancel (blocks.go).

// EndgameHolders is how many peers at most are asked for the same block in the endgame: the
// original holder plus one duplicate.
const EndgameHolders = 2

// pickEndgame asks peer for blocks outstanding at another peer (at most EndgameHolders each).
func (p *Picker) pickEndgame(peer ConnKey, peerHas wire.Bitfield, dst []Block, want int) []Block {
	for _, sp := range p.active {
		if p.state[sp.piece] != statusPartial || !peerHas.Has(sp.piece) {
			continue
		}
		for j := range sp.blocks {
			if len(dst) == want {
				return dst
			}
			b := &sp.blocks[j]
			if !b.received && int(b.nHolders) < EndgameHolders && !b.heldBy(peer) {
				dst = p.request(peer, sp, j, dst)
			}
		}
	}
	return dst
}
