package core

import (
	"log/slog"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// The request pipeline: each connection keeps RequestQueueTime of its measured rate requested
// (after libtorrent's request_queue_time), between MinRequestDepth and MaxRequestDepth blocks,
// so a fast peer never idles waiting for our next request and a slow one is not handed blocks
// others could deliver sooner. A peer silent for RequestTimeout while asked is snubbed: its
// requests go to others and it gets one at a time until it delivers again.

// snubbedDepth is the pipeline of a snubbed connection.
const snubbedDepth = 1

// refillFraction: a connection's pipeline is topped up once a 1/refillFraction of its depth was
// answered (at every block while it is shallower than refillFraction), which keeps it at least
// 3/4 full and spares the picker a call per block.
const refillFraction = 4

// pipelineConfig sizes the request pipeline of every connection.
type pipelineConfig struct {
	QueueTime time.Duration
	MinDepth  int
	MaxDepth  int
}

// minDepthFor is the pipeline's minimum: the configured one, but never more than one piece, so
// that a connection whose rate is not known yet (or is tiny) holds at most one piece at one
// uploader. With pieces of a block or two, four blocks at a slow uploader are several pieces
// that nobody else may send meanwhile (the lab's scale scenario: 16 KiB pieces at 24 KiB/s).
func minDepthFor(configured int, pieceLength int64) int {
	perPiece := int((pieceLength + blockLength - 1) / blockLength)
	return max(min(configured, perPiece), 1)
}

// requestDepth is how many requests a connection should have outstanding: its download rate
// (bytes/s) times the queue time, in blocks, between MinDepth and MaxDepth; 1 when snubbed.
func (pc pipelineConfig) requestDepth(rate float64, snubbed bool) int {
	if snubbed {
		return snubbedDepth
	}
	depth := int(rate * pc.QueueTime.Seconds() / blockLength)
	return min(max(depth, pc.MinDepth), pc.MaxDepth)
}

// fillAll tops up the request pipeline of every connection (after requests were given back),
// starting at a connection drawn from the core's source, so that none is always served first.
func (c *Core) fillAll(now time.Time) {
	n := len(c.order)
	if n == 0 {
		return
	}
	start := c.rng.IntN(n)
	for i := range n {
		c.fill(c.order[(start+i)%n], now)
	}
}

// fill tops up p's request pipeline to its depth. New pieces are started only while a piece
// buffer is free (the picker's bound); then only partial pieces are asked.
func (c *Core) fill(p *peerConn, now time.Time) {
	if p.peerChoking || !p.amInterested || c.complete || !c.mayDownloadFrom(p) {
		return
	}
	outstanding := c.picker.Outstanding(p.key)
	depth := c.pipeline.requestDepth(p.down.Rate(now), p.snubbed)
	want := depth - outstanding
	if want <= 0 || (outstanding > 0 && want < depth/refillFraction) {
		return // a deep pipeline is topped up in batches: one Pick per several blocks
	}
	peerHas := p.has
	if c.paroled > 0 {
		peerHas = c.pickable(p)
	}
	c.scratch = c.picker.PickAt(now, p.key, peerHas, want, c.scratch[:0])
	if len(c.scratch) == 0 && c.buffers.full() && c.evictStalled() {
		c.scratch = c.picker.PickAt(now, p.key, peerHas, want, c.scratch[:0])
	}
	for _, b := range c.scratch {
		if p.paroled {
			c.picker.claim(b.Piece, p.key) // a piece a peer on parole starts is its alone
		}
		c.send(p.key, requestMessage(b))
	}
	clear(c.scratch)
}

// mayDownloadFrom reports whether p may be asked for blocks: with SeedsOnly (a client-server
// download) only complete peers are.
func (c *Core) mayDownloadFrom(p *peerConn) bool {
	return !c.cfg.SeedsOnly || p.isSeed(c.meta.NumPieces())
}

// Tick runs the once-a-second checks at now: requests of connections that delivered nothing
// for RequestTimeout are given back and the connection is snubbed; hash requests unanswered as
// long are asked elsewhere (blame.go).
func (c *Core) Tick(now time.Time) {
	c.checkHashTimeouts(now)
	released := false
	for _, p := range c.order {
		if !c.stalled(p, now) {
			continue
		}
		n := c.picker.ReleaseAll(p.key)
		c.counters.RequestTimeouts += int64(n)
		c.logf(slog.LevelDebug, "Requests timed out: peer snubbed", "peer", p.Addr, "requests", n)
		p.snubbed = true
		released = true
	}
	if released {
		c.fillAll(now)
	}
}

// stalled reports whether p has requests outstanding and sent nothing for RequestTimeout since
// the later of its last block and our oldest request still outstanding at it.
func (c *Core) stalled(p *peerConn, now time.Time) bool {
	if c.picker.Outstanding(p.key) == 0 {
		return false
	}
	since := c.picker.OldestRequest(p.key)
	if p.lastBlock.After(since) {
		since = p.lastBlock
	}
	return now.Sub(since) >= c.cfg.RequestTimeout
}

// pickable returns the pieces of p.has that p may be asked for while some peer is on parole: a
// piece started by a peer on parole is its alone, and a peer on parole gets no piece that
// others contribute to, so that the next corrupt piece has a single sender and is proof against
// it (libtorrent's parole mode).
func (c *Core) pickable(p *peerConn) wire.Bitfield {
	if len(c.mask) != len(p.has) {
		c.mask = wire.NewBitfield(c.meta.NumPieces())
	}
	copy(c.mask, p.has)
	for _, sp := range c.picker.active {
		if (sp.owner != 0 && sp.owner != p.key) || (p.paroled && sp.owner != p.key) {
			c.mask.Clear(sp.piece)
		}
	}
	return c.mask
}
