package core

import (
	"log/slog"
	"time"
)

// PieceChecked takes the verifier's outcome for piece: ok when its hash matched and it was
// written, with the buffer data given back; leaves are its leaf hashes when computed (a failed
// or suspect piece), nil otherwise. A verified piece is announced to every peer; a failed one
// goes back to the picker and its blocks to the blame (blame.go). writeErr, when set, is a
// disk error: the piece goes back to the picker and the shell stops the session.
func (c *Core) PieceChecked(now time.Time, piece int, data []byte, ok bool, leaves []byte, writeErr error) {
	sp := c.picker.started[piece]
	if sp == nil { // cannot happen: a piece stays started until its outcome comes
		c.buffers.put(data)
		return
	}
	sp.data = data
	switch {
	case writeErr != nil:
		c.picker.PieceFailed(piece) // forget its blocks; nobody is to blame
	case ok:
		c.pieceVerified(sp, leaves)
	default:
		c.pieceFailed(now, sp, leaves)
	}
	if c.picker.Complete() && !c.complete {
		c.emit(Effect{Kind: Complete})
	}
	c.fillAll(now)
}

// pieceVerified records a verified, written piece: its senders are credited, the blame gets
// its proven leaves (the smart ban), a peer on parole that sent it alone is cleared, and every
// connection hears Have.
func (c *Core) pieceVerified(sp *startedPiece, leaves []byte) {
	piece := sp.piece
	c.sources.add(sendersOf(sp))
	if leaves != nil {
		c.proven(piece, leaves)
	}
	if owner := c.conns[sp.owner]; owner != nil && owner.paroled {
		c.setParole(owner, false) // it delivered a good piece alone
	}
	c.picker.MarkHave(piece) // retires sp: its buffer goes back to the pool
	c.have.Set(piece)
	for _, p := range c.order {
		if p.has.Has(piece) {
			p.wanted--
			c.updateInterest(p)
		}
		c.send(p.key, haveMessage(piece))
	}
}

// pieceFailed handles a piece that failed verification: leaves are the leaf hashes of the data
// received. A piece sent by one peer convicts it; otherwise its senders go on parole, their
// blocks are recorded and a peer is asked for the proven leaves.
func (c *Core) pieceFailed(now time.Time, sp *startedPiece, leaves []byte) {
	piece := sp.piece
	c.counters.HashFailures++
	records := blockRecords(sp, leaves)
	senders := sendersOf(sp)
	c.logf(slog.LevelWarn, "Piece failed verification", "piece", piece, "senders", len(senders))
	c.picker.PieceFailed(piece) // the blocks are missing again; the buffer stays if requests do
	if len(senders) == 1 {
		c.ban(now, senders[0].senderID, BanBadBlock, piece, "it alone sent a piece that failed")
		return
	}
	for _, b := range senders {
		if p := c.conns[b.sender]; p != nil {
			c.setParole(p, true)
		}
	}
	if c.suspect(piece, records) {
		c.askHashes(piece, now)
	}
}

// sendersOf is one received block of sp per sender (its first), in block order.
func sendersOf(sp *startedPiece) []blockState {
	var senders []blockState
	for _, b := range sp.blocks {
		if !b.received {
			continue
		}
		seen := false
		for _, s := range senders {
			seen = seen || s.sender == b.sender
		}
		if !seen {
			senders = append(senders, b)
		}
	}
	return senders
}
