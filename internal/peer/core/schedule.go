package core

import "slices"

// The session's upload scheduler: with a capped upload, the peers we unchoke do not contend for
// the cap's token bucket, each at a fifth of the rate. The shell's scheduler asks PickUpload
// what to send next and sends it at the full rate, so a piece reaches one peer in F/u/M rather
// than five pieces reaching five peers five times as late: the next hop of a new piece starts
// as soon as possible, which is what T*'s log2(N)/M term assumes. The rule is shortest
// remaining first: the peer closest to having its piece from us goes first, so that pieces
// complete one at a time; among equals, the peer served least recently, so that they take
// turns. It is work-conserving: a peer whose writer still holds blocks (the shell's ready says
// no), or that asked for nothing, is passed over for the next in rank.
//
// Two more rules were tried in the simulator and left out (docs/benchmarks.md):
// the optimistic unchoke served only with what the regular slots leave, and a seed's first
// copies before second copies. Both starve a peer while others keep their pipelines full.

// servingState is what the scheduler remembers of one peer: the piece it is sending it, how
// many of that piece's blocks went out, and when the peer was last picked.
type servingState struct {
	piece        int
	sent         int
	lastServedAt uint64
}

// PickUpload appends to dst the blocks to send next and returns whose they are: up to maxBlocks
// of one unchoked peer's queued requests, the consecutive ones at the front of its queue that
// belong to one piece, from the peer that has the fewest blocks of that piece left to get from
// us, among those ready accepts. It returns key 0 and dst unchanged when no peer may be served.
func (c *Core) PickUpload(ready func(ConnKey) bool, maxBlocks int, dst []Block) (ConnKey, []Block) {
	var best *peerConn
	bestLeft := 0
	for _, p := range c.order {
		if p.amChoking || len(p.uploads) == 0 || !ready(p.key) {
			continue
		}
		left := c.blocksLeft(p)
		if best == nil || left < bestLeft || (left == bestLeft && p.serving.lastServedAt < best.serving.lastServedAt) {
			best, bestLeft = p, left
		}
	}
	if best == nil {
		return 0, dst
	}
	return best.key, c.takeFront(best, maxBlocks, dst)
}

// blocksLeft is how many blocks of the piece at the front of p's queue we have not sent it yet.
// Once a piece's worth of requests was served, more requests of the same piece count as a new
// piece: a peer asking for one piece again and again ranks as an honest peer fetching pieces
// one after the other, never ahead of everyone.
func (c *Core) blocksLeft(p *peerConn) int {
	piece := p.uploads[0].Piece
	n := c.picker.numBlocks(piece)
	if p.serving.piece == piece && p.serving.sent < n {
		return n - p.serving.sent
	}
	return n
}

// takeFront moves up to maxBlocks requests of p's front piece from its queue to dst and records
// them as served.
func (c *Core) takeFront(p *peerConn, maxBlocks int, dst []Block) []Block {
	piece := p.uploads[0].Piece
	n := 0
	for n < len(p.uploads) && n < maxBlocks && p.uploads[n].Piece == piece {
		n++
	}
	dst = append(dst, p.uploads[:n]...)
	p.uploads = slices.Delete(p.uploads, 0, n)
	if p.serving.piece != piece || p.serving.sent >= c.picker.numBlocks(piece) {
		p.serving.piece, p.serving.sent = piece, 0
	}
	p.serving.sent += n
	c.servedSeq++
	p.serving.lastServedAt = c.servedSeq
	return dst
}
