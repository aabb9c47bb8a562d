package core

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// pieceStatus is where one piece stands in this peer's download.
type pieceStatus uint8

const (
	statusMissing  pieceStatus = iota // nothing requested, nothing received
	statusPartial                     // some block requested or received, not all received
	statusComplete                    // every block received, waiting for verification
	statusHave                        // verified
)

// Picker decides which blocks to request from which peer: the rarest piece first (the design
// note's concept 4), with BitTorrent's refinements (partial pieces finished first, a random first
// piece, the endgame; see Pick). It tracks which blocks are outstanding at which peer and who sent
// each block, for the ban list. Its memory is O(pieces) plus the started pieces' blocks; its
// per-peer map holds the peers the session asks (PeerGone removes one).
//
// A Picker is NOT safe for concurrent use: the session's mutex owns it.
type Picker struct {
	numPieces int
	pieceLen  func(piece int) int
	rng       *rand.Rand

	state   []pieceStatus
	missing wire.Bitfield // the pieces in statusMissing, to skip a scan when a peer has none of them
	avail   []int32       // how many connected peers have each piece
	order   pieceOrder
	started []*startedPiece // by piece; nil unless partial or complete
	active  []*startedPiece // the partial and complete pieces, for iteration
	spare   []*startedPiece // recycled, so that a warm Pick does not allocate

	outstanding   map[ConnKey]int // requests not yet answered, per peer
	haveCount     int
	completeCount int // complete pieces waiting for verification
	unrequested   int // missing blocks that no peer has been asked for
	maxStarted    int // bound on len(active); 0: none

	randomOnly bool // for tests: ignore availability (the baseline rarest first is measured against)

	buffers  *bufferPool // lends each started piece its buffer; nil: no buffers (picker tests)
	now      time.Time   // the time PickAt records its requests at
	cancelAt []ConnKey   // scratch for Received
}

// NewPicker returns a picker for numPieces pieces, where pieceLen(i) (> 0) is the length of piece
// i in bytes. rng breaks ties between equally rare pieces and picks the first piece.
func NewPicker(numPieces int, pieceLen func(piece int) int, rng *rand.Rand) *Picker {
	numPieces = max(numPieces, 0)
	p := &Picker{
		numPieces:   numPieces,
		pieceLen:    pieceLen,
		rng:         rng,
		state:       make([]pieceStatus, numPieces),
		avail:       make([]int32, numPieces),
		order:       newPieceOrder(numPieces, rng),
		started:     make([]*startedPiece, numPieces),
		outstanding: make(map[ConnKey]int),
	}
	p.missing = wire.NewBitfield(numPieces)
	for i := range numPieces {
		p.unrequested += p.numBlocks(i)
		p.missing.Set(i)
	}
	return p
}

// setStatus moves piece to status st, keeping the missing set in step.
func (p *Picker) setStatus(piece int, st pieceStatus) {
	p.state[piece] = st
	if st == statusMissing {
		p.missing.Set(piece)
	} else {
		p.missing.Clear(piece)
	}
}

// hasAnyMissing reports whether peerHas holds a piece in statusMissing: a tight loop over bytes.
func (p *Picker) hasAnyMissing(peerHas wire.Bitfield) bool {
	for i, b := range p.missing[:min(len(p.missing), len(peerHas))] {
		if b&peerHas[i] != 0 {
			return true
		}
	}
	return false
}

// numBlocks is how many blocks piece i has.
func (p *Picker) numBlocks(piece int) int {
	n := p.pieceLen(piece)
	if n <= 0 {
		return 0
	}
	return (n + wire.BlockSize - 1) / wire.BlockSize
}

// blockAt returns block j of piece.
func (p *Picker) blockAt(piece, j int) Block {
	begin := j * wire.BlockSize
	return Block{Piece: piece, Begin: begin, Length: min(wire.BlockSize, p.pieceLen(piece)-begin)}
}

// valid reports whether piece is an index of this torrent.
func (p *Picker) valid(piece int) bool { return piece >= 0 && piece < p.numPieces }

// MarkHave records piece as verified (found on disk at resume, or VerifyPiece succeeded). Requests
// still outstanding for its blocks are forgotten; late answers are then not accepted.
func (p *Picker) MarkHave(piece int) {
	if !p.valid(piece) || p.state[piece] == statusHave {
		return
	}
	if sp := p.started[piece]; sp != nil {
		p.unrequested -= p.forget(sp)
	} else {
		p.unrequested -= p.numBlocks(piece)
	}
	p.setStatus(piece, statusHave)
	p.haveCount++
	p.order.remove(int32(piece), int(p.avail[piece]))
}

// Have reports whether piece is verified.
func (p *Picker) Have(piece int) bool { return p.valid(piece) && p.state[piece] == statusHave }

// HaveCount is the number of verified pieces.
func (p *Picker) HaveCount() int { return p.haveCount }

// Complete reports whether every piece is verified.
func (p *Picker) Complete() bool { return p.haveCount == p.numPieces }

// InEndgame reports whether every missing block is already requested from some peer, so that
// Pick now asks a second peer for blocks outstanding elsewhere.
func (p *Picker) InEndgame() bool { return p.unrequested == 0 && !p.Complete() }

// Outstanding is the number of requests sent to peer and not yet answered.
func (p *Picker) Outstanding(peer ConnKey) int { return p.outstanding[peer] }

// PeerHasAll adds a peer's pieces (its Bitfield, or every piece for HaveAll) to the availability.
func (p *Picker) PeerHasAll(bf wire.Bitfield) { p.eachSet(bf, p.PeerHas) }

// PeerLost removes a disconnected peer's pieces from the availability.
func (p *Picker) PeerLost(bf wire.Bitfield) { p.eachSet(bf, p.peerLostOne) }

// eachSet calls f for every piece set in bf, skipping zero bytes.
func (p *Picker) eachSet(bf wire.Bitfield, f func(piece int)) {
	for i, b := range bf {
		if b == 0 {
			continue
		}
		for j := range 8 {
			if piece := i*8 + j; piece < p.numPieces && bf.Has(piece) {
				f(piece)
			}
		}
	}
}

// PeerHas counts one more peer holding piece (a Have message).
func (p *Picker) PeerHas(piece int) {
	if !p.valid(piece) {
		return
	}
	if p.state[piece] != statusHave {
		p.order.increment(int32(piece), int(p.avail[piece]))
	}
	p.avail[piece]++
}

// peerLostOne counts one peer less holding piece.
func (p *Picker) peerLostOne(piece int) {
	if !p.valid(piece) || p.avail[piece] == 0 {
		return
	}
	if p.state[piece] != statusHave {
		p.order.decrement(int32(piece), int(p.avail[piece]))
	}
	p.avail[piece]--
}

// Availability is how many connected peers have piece (0 for an index out of range).
func (p *Picker) Availability(piece int) int {
	if !p.valid(piece) {
		return 0
	}
	return int(p.avail[piece])
}

// MinAvailability is the lowest availability among the pieces this peer still misses: 0 means a
// piece it needs is held by no connected peer (extinct, as far as it can see). It is -1 when this
// peer has every piece. O(number of distinct availabilities).
func (p *Picker) MinAvailability() int { return p.order.minAvailability() }

// Pick appends to dst up to max new requests for peer, which holds the pieces set in peerHas. The
// order (the design note's rarest first, with BitTorrent's refinements, after libtorrent):
//
//  1. until the first piece is complete: blocks of partial pieces, then of a random piece, so that
//     a newcomer soon has something to trade;
//  2. then availability first, rarest piece first, ties broken at random; within one
//     availability, partial pieces (most blocks received first) before new ones;
//  3. but when more pieces are started than 3/2 per peer we have requests at (libtorrent's rule),
//     partial pieces come first whatever their availability, so that they are finished;
//  4. in the endgame, when every missing block is requested, blocks outstanding at one other peer
//     (at most EndgameHolders peers per block); Received then names the peers to Cancel.
//
// Why (2) and not "partial pieces always first": with several blocks per piece, a partial piece
// started from a slow peer would have its other blocks requested from the fastest one (often the
// seeder), which then spends its upload on pieces others already hold instead of pieces only it
// has; see TestRarestFirstKeepsEveryPieceAlive.
//
// Pick never returns a block already requested from peer, nor one of a piece peer lacks or this
// peer has, and starts no new piece once SetMaxStarted's limit is reached. The returned blocks are
// outstanding at peer until Received, Release or PeerGone. It does not allocate (after warm-up)
// when dst has room; its cost is O(started pieces + pieces scanned until max blocks are found).
func (p *Picker) Pick(peer ConnKey, peerHas wire.Bitfield, max int, dst []Block) []Block {
	return p.PickAt(time.Time{}, peer, peerHas, max, dst)
}

// PickAt is Pick with the time the requests are recorded at (request timeouts are measured
// from it).
func (p *Picker) PickAt(now time.Time, peer ConnKey, peerHas wire.Bitfield, max int, dst []Block) []Block {
	p.now = now
	if max <= 0 || p.Complete() {
		return dst
	}
	want := len(dst) + max
	switch {
	case p.randomOnly || p.haveCount+p.completeCount == 0:
		dst = p.pickPartial(peer, peerHas, dst, want)
		dst = p.pickRandom(peer, peerHas, dst, want)
	case p.tooManyStarted():
		dst = p.pickPartial(peer, peerHas, dst, want)
		dst = p.pickRarest(peer, peerHas, dst, want)
	default:
		dst = p.pickRarest(peer, peerHas, dst, want)
	}
	if len(dst) < want && p.unrequested == 0 {
		dst = p.pickEndgame(peer, peerHas, dst, want)
	}
	return dst
}

// SetMaxStarted bounds the pieces started at a time (partial, or complete and waiting for
// verification) to n, e.g. the session's number of piece buffers; 0 (the default) means no bound.
// At the bound, Pick requests only blocks of started pieces.
func (p *Picker) SetMaxStarted(n int) { p.maxStarted = max(n, 0) }

// useBuffers gives every started piece a buffer of pool and bounds the started pieces to the
// pool's size, so that a piece can always be started when the bound allows it.
func (p *Picker) useBuffers(pool *bufferPool) {
	p.buffers = pool
	p.SetMaxStarted(pool.max)
}

// mayStart reports whether Pick may start one more piece.
func (p *Picker) mayStart() bool { return p.maxStarted == 0 || len(p.active) < p.maxStarted }

// tooManyStarted reports whether more pieces are started than 3/2 per peer with requests
// outstanding (libtorrent's threshold for preferring partial pieces).
func (p *Picker) tooManyStarted() bool { return 2*len(p.active) > 3*len(p.outstanding) }

// pickPartial requests the unrequested blocks of partial pieces peer has, fullest pieces first.
func (p *Picker) pickPartial(peer ConnKey, peerHas wire.Bitfield, dst []Block, want int) []Block {
	slices.SortFunc(p.active, p.compareFullest)
	for _, sp := range p.active {
		if len(dst) == want {
			break
		}
		if p.state[sp.piece] == statusPartial && peerHas.Has(sp.piece) {
			dst = p.requestFree(peer, sp, dst, want)
		}
	}
	return dst
}

// compareFullest orders started pieces: most blocks received, then rarest, then lowest index.
func (p *Picker) compareFullest(a, b *startedPiece) int {
	if a.received != b.received {
		return b.received - a.received
	}
	if p.avail[a.piece] != p.avail[b.piece] {
		return int(p.avail[a.piece] - p.avail[b.piece])
	}
	return a.piece - b.piece
}

// pickRandom starts random missing pieces peer has: before the first piece is complete, a
// newcomer wants any whole piece quickly, to have something to trade. The scan starts at a random
// place of the (shuffled) order.
func (p *Picker) pickRandom(peer ConnKey, peerHas wire.Bitfield, dst []Block, want int) []Block {
	live := p.order.live()
	if len(live) == 0 || len(dst) == want || !p.hasAnyMissing(peerHas) {
		return dst
	}
	return p.startPieces(peer, peerHas, live, p.rng.IntN(len(live)), dst, want)
}

// compareRarest orders started pieces: rarest, then most blocks received, then lowest index.
func (p *Picker) compareRarest(a, b *startedPiece) int {
	if p.avail[a.piece] != p.avail[b.piece] {
		return int(p.avail[a.piece] - p.avail[b.piece])
	}
	if a.received != b.received {
		return b.received - a.received
	}
	return a.piece - b.piece
}

// pickRarest requests blocks by availability, bucket by bucket: first the free blocks of the
// partial pieces of that availability, then new pieces of the bucket, the scan starting at a
// random place so that equally rare pieces are picked evenly. Bucket 0 (pieces no connected peer
// is known to hold) comes last: peerHas holds none of them if it was added with PeerHasAll.
func (p *Picker) pickRarest(peer ConnKey, peerHas wire.Bitfield, dst []Block, want int) []Block {
	slices.SortFunc(p.active, p.compareRarest)
	started := len(p.active) // pieces started below are appended: they need no second look
	scan := p.hasAnyMissing(peerHas)
	next := 0
	for i := 0; i < p.order.buckets() && len(dst) < want; i++ {
		k := (i + 1) % p.order.buckets() // 1, 2, ..., then 0
		for ; next < started && int(p.avail[p.active[next].piece]) <= k && len(dst) < want; next++ {
			if sp := p.active[next]; p.state[sp.piece] == statusPartial && peerHas.Has(sp.piece) {
				dst = p.requestFree(peer, sp, dst, want)
			}
		}
		if bucket := p.order.bucket(k); scan && len(bucket) > 0 && len(dst) < want {
			dst = p.startPieces(peer, peerHas, bucket, p.rng.IntN(len(bucket)), dst, want)
		}
	}
	return dst
}

// startPieces scans pieces cyclically from index from and requests the blocks of missing pieces
// peer has until dst holds want blocks.
func (p *Picker) startPieces(peer ConnKey, peerHas wire.Bitfield, pieces []int32, from int, dst []Block, want int) []Block {
	for _, run := range [2][]int32{pieces[from:], pieces[:from]} {
		for _, piece := range run {
			if len(dst) == want || !p.mayStart() {
				return dst
			}
			if p.state[piece] == statusMissing && peerHas.Has(int(piece)) {
				dst = p.requestFree(peer, p.start(int(piece)), dst, want)
			}
		}
	}
	return dst
}

// requestFree requests from peer the blocks of sp that nobody has been asked for.
func (p *Picker) requestFree(peer ConnKey, sp *startedPiece, dst []Block, want int) []Block {
	for j := range sp.blocks {
		if len(dst) == want {
			break
		}
		if b := &sp.blocks[j]; !b.received && b.nHolders == 0 {
			dst = p.request(peer, sp, j, dst)
		}
	}
	return dst
}
