package core

import (
	"slices"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// The download book: the one record of what this peer has asked for and received. Each block of
// a started piece records the peers asked for it (with when), and once received its sender (key
// and identity); each started piece records its received count, its buffer and, when a peer on
// parole downloads it alone, that peer. Outstanding requests per peer, request timeouts, stalled
// pieces and a failed piece's senders are queries over this record, never copies of it.

// holder is one outstanding request of a block: the peer asked and when.
type holder struct {
	key ConnKey
	at  time.Time
}

// blockState is one block of a started piece.
type blockState struct {
	holders  [EndgameHolders]holder // peers asked for this block and not answered yet
	nHolders uint8
	received bool
	sender   ConnKey  // who sent it, when received
	senderID Identity // the sender's address and id, kept after it disconnects (blame, sources)
}

// startedPiece is a partial or complete (not yet verified) piece.
type startedPiece struct {
	piece    int
	received int // blocks received
	blocks   []blockState
	data     []byte  // its piece buffer (nil while the verifier holds it, or without a pool)
	owner    ConnKey // the peer on parole downloading it alone; 0: anyone (parole.go)
}

// request records block j of sp as outstanding at peer (asked at p.now) and appends it to dst.
func (p *Picker) request(peer ConnKey, sp *startedPiece, j int, dst []Block) []Block {
	b := &sp.blocks[j]
	if b.nHolders == 0 {
		p.unrequested--
	}
	b.holders[b.nHolders] = holder{key: peer, at: p.now}
	b.nHolders++
	p.outstanding[peer]++
	return append(dst, p.blockAt(sp.piece, j))
}

// start makes a missing piece partial, with fresh block state (recycled when possible) and a
// piece buffer from the pool, if the picker has one.
func (p *Picker) start(piece int) *startedPiece {
	var sp *startedPiece
	if n := len(p.spare); n > 0 {
		sp, p.spare = p.spare[n-1], p.spare[:n-1]
	} else {
		sp = new(startedPiece)
	}
	n := p.numBlocks(piece)
	if cap(sp.blocks) < n {
		sp.blocks = make([]blockState, n)
	}
	sp.blocks = sp.blocks[:n]
	clear(sp.blocks)
	sp.piece, sp.received, sp.owner = piece, 0, 0
	if p.buffers != nil {
		sp.data = p.buffers.get()[:p.pieceLen(piece)]
	}
	p.started[piece] = sp
	p.active = append(p.active, sp)
	p.setStatus(piece, statusPartial)
	return sp
}

// retire returns a started piece's state to the spare list and its buffer to the pool; the
// caller sets the piece's state.
func (p *Picker) retire(sp *startedPiece) {
	p.started[sp.piece] = nil
	if i := slices.Index(p.active, sp); i >= 0 {
		last := len(p.active) - 1
		p.active[i] = p.active[last]
		p.active[last] = nil
		p.active = p.active[:last]
	}
	if sp.data != nil && p.buffers != nil {
		p.buffers.put(sp.data)
	}
	sp.data = nil
	p.spare = append(p.spare, sp)
}

// forget drops every outstanding request of a started piece and retires it; it returns how many
// of its blocks were neither received nor requested.
func (p *Picker) forget(sp *startedPiece) (free int) {
	for j := range sp.blocks {
		b := &sp.blocks[j]
		for _, h := range b.holders[:b.nHolders] {
			p.decOutstanding(h.key)
		}
		if !b.received && b.nHolders == 0 {
			free++
		}
	}
	if p.state[sp.piece] == statusComplete {
		p.completeCount--
	}
	p.retire(sp)
	return free
}

// decOutstanding counts one answered (or abandoned) request of peer.
func (p *Picker) decOutstanding(peer ConnKey) {
	if p.outstanding[peer] > 0 {
		p.outstanding[peer]--
	}
}

// heldBy reports whether peer has been asked for this block.
func (b *blockState) heldBy(peer ConnKey) bool {
	for _, h := range b.holders[:b.nHolders] {
		if h.key == peer {
			return true
		}
	}
	return false
}

// dropHolder removes peer from the block's holders; it reports whether peer was one.
func (b *blockState) dropHolder(peer ConnKey) bool {
	for i, h := range b.holders[:b.nHolders] {
		if h.key == peer {
			b.nHolders--
			b.holders[i] = b.holders[b.nHolders]
			b.holders[b.nHolders] = holder{}
			return true
		}
	}
	return false
}

// lookup finds the state of block b, or reports false if b is not exactly one block of a started
// piece (a wrong offset or length, a piece not requested, verified, or out of range).
func (p *Picker) lookup(b Block) (*startedPiece, *blockState, bool) {
	if !p.valid(b.Piece) || b.Begin < 0 || b.Begin%wire.BlockSize != 0 {
		return nil, nil, false
	}
	sp := p.started[b.Piece]
	j := b.Begin / wire.BlockSize
	if sp == nil || j >= len(sp.blocks) || p.blockAt(b.Piece, j) != b {
		return nil, nil, false
	}
	return sp, &sp.blocks[j], true
}

// Requested reports whether block b is outstanding at peer (asked and not answered, released or
// cancelled).
func (p *Picker) Requested(peer ConnKey, b Block) bool {
	_, blk, ok := p.lookup(b)
	return ok && blk.heldBy(peer)
}

// Received records block b as sent by peer (identified as id). It is accepted if it is a block
// of a started piece not received yet (from peer, or late from a peer whose request was
// released); then cancelAt lists the other peers it was requested from (endgame), to which the
// session sends Cancel, and pieceComplete reports that every block of the piece is in: verify
// it, then MarkHave or PieceFailed. A duplicate or a block nobody asked for is not accepted.
func (p *Picker) Received(peer ConnKey, id Identity, b Block) (accepted, pieceComplete bool, cancelAt []ConnKey) {
	sp, blk, ok := p.lookup(b)
	if !ok || blk.received {
		return false, false, nil // holders are cleared when a block is received: nothing to drop
	}
	if blk.dropHolder(peer) {
		p.decOutstanding(peer)
	} else if blk.nHolders == 0 {
		p.unrequested-- // a late answer to a released request
	}
	if blk.nHolders > 0 {
		cancelAt = p.cancelAt[:0]
		for _, h := range blk.holders[:blk.nHolders] {
			cancelAt = append(cancelAt, h.key)
			p.decOutstanding(h.key)
		}
		p.cancelAt = cancelAt
		blk.holders, blk.nHolders = [EndgameHolders]holder{}, 0
	}
	blk.received, blk.sender, blk.senderID = true, peer, id
	sp.received++
	if sp.received == len(sp.blocks) {
		p.setStatus(sp.piece, statusComplete)
		p.completeCount++
		return true, true, cancelAt
	}
	return true, false, cancelAt
}

// Release puts a block requested from peer back in the pool (the request was rejected, timed out
// or lost to a choke). A piece with nothing received and nothing requested becomes missing again,
// and so is picked by rarity again.
func (p *Picker) Release(peer ConnKey, b Block) {
	sp, blk, ok := p.lookup(b)
	if !ok || !blk.dropHolder(peer) {
		return
	}
	p.decOutstanding(peer)
	if !blk.received && blk.nHolders == 0 {
		p.unrequested++
	}
	p.retireIfIdle(sp)
}

// retireIfIdle makes a partial piece with nothing received and nothing requested missing again.
func (p *Picker) retireIfIdle(sp *startedPiece) {
	if p.state[sp.piece] != statusPartial || sp.received > 0 || requestsOf(sp) > 0 {
		return
	}
	p.setStatus(sp.piece, statusMissing)
	p.retire(sp)
}

// requestsOf counts the outstanding requests for the blocks of sp, all peers.
func requestsOf(sp *startedPiece) int {
	n := 0
	for j := range sp.blocks {
		n += int(sp.blocks[j].nHolders)
	}
	return n
}

// ReleaseAll puts every request outstanding at peer back in the pool (it choked us, or its
// requests timed out) and returns how many there were.
func (p *Picker) ReleaseAll(peer ConnKey) int {
	released := p.outstanding[peer]
	if released == 0 {
		return 0
	}
	for i := len(p.active) - 1; i >= 0; i-- { // backwards: retiring swaps in the last element
		sp := p.active[i]
		for j := range sp.blocks {
			if blk := &sp.blocks[j]; blk.dropHolder(peer) && !blk.received && blk.nHolders == 0 {
				p.unrequested++
			}
		}
		p.retireIfIdle(sp)
	}
	p.outstanding[peer] = 0
	return released
}

// PeerGone releases every request outstanding at peer, which disconnected, and forgets it. The
// session also calls PeerLost with its bitfield.
func (p *Picker) PeerGone(peer ConnKey) {
	p.ReleaseAll(peer)
	delete(p.outstanding, peer)
}

// OldestRequest is when the oldest request outstanding at peer was sent (zero when none).
func (p *Picker) OldestRequest(peer ConnKey) time.Time {
	var oldest time.Time
	if p.outstanding[peer] == 0 {
		return oldest
	}
	for _, sp := range p.active {
		for j := range sp.blocks {
			for _, h := range sp.blocks[j].holders[:sp.blocks[j].nHolders] {
				if h.key == peer && (oldest.IsZero() || h.at.Before(oldest)) {
					oldest = h.at
				}
			}
		}
	}
	return oldest
}

// PieceSenders lists the peers that sent the blocks of a started piece (for a complete piece
// waiting for verification: everyone who contributed to it), each once.
func (p *Picker) PieceSenders(piece int) []ConnKey {
	if !p.valid(piece) || p.started[piece] == nil {
		return nil
	}
	var senders []ConnKey
	for _, b := range p.started[piece].blocks {
		if b.received && !slices.Contains(senders, b.sender) {
			senders = append(senders, b.sender)
		}
	}
	return senders
}

// PieceFailed records that piece failed verification: every received block of it is missing
// again (requests still outstanding stay). It returns who sent the blocks, for the ban list.
func (p *Picker) PieceFailed(piece int) (senders []ConnKey) {
	if !p.valid(piece) || p.started[piece] == nil {
		return nil
	}
	senders = p.PieceSenders(piece)
	sp := p.started[piece]
	if p.state[piece] == statusComplete {
		p.completeCount--
		p.setStatus(piece, statusPartial)
	}
	for j := range sp.blocks {
		b := &sp.blocks[j]
		if b.received {
			b.received, b.sender, b.senderID = false, 0, Identity{}
			if b.nHolders == 0 {
				p.unrequested++
			}
		}
	}
	sp.received = 0
	p.retireIfIdle(sp)
	return senders
}
