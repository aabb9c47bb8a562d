package core

import (
	"time"
)

// onBlock takes one block from p: copied into its piece's buffer if we asked p for it and
// nobody delivered it first. The last block of a piece hands the buffer to the verifier (a
// Verify effect).
func (c *Core) onBlock(now time.Time, p *peerConn, b Block, payload []byte) error {
	if err := c.validBlock(b); err != nil {
		return err
	}
	n := int64(len(payload))
	c.counters.BytesDownloaded += n
	p.down.Add(now, n)
	c.dnMeter.Add(now, n)
	p.lastActive = now
	if !c.picker.Requested(p.key, b) {
		return nil // late (released after a timeout or choke) or unasked: dropped
	}
	p.contributed = true
	p.lastBlock, p.snubbed = now, false
	sp := c.picker.started[b.Piece]
	accepted, complete, cancelAt := c.picker.Received(p.key, p.identity(), b)
	if accepted && sp.data != nil {
		copy(sp.data[b.Begin:], payload)
	}
	for _, key := range cancelAt {
		if other := c.conns[key]; other != nil {
			c.send(key, cancelMessage(b))
		}
	}
	if complete {
		c.emit(Effect{Kind: Verify, Piece: b.Piece, Data: sp.data, NeedLeaves: c.blame.suspects[b.Piece] != nil})
		sp.data = nil // the verifier's until PieceChecked
	}
	c.fill(p, now)
	return nil
}

// Uploaded counts n payload bytes sent to key's peer at now.
func (c *Core) Uploaded(now time.Time, key ConnKey, n int) {
	c.counters.BytesUploaded += int64(n)
	c.upMeter.Add(now, int64(n))
	if p := c.conns[key]; p != nil {
		p.up.Add(now, int64(n))
		p.lastActive = now
	}
}
