package peer

import (
	"errors"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// errBothSeeds closes a connection between two complete peers.
var errBothSeeds = errors.New("both peers are seeds")

// pieceBuffer collects the blocks of one partial piece until it can be verified.
// Owner: the session's mutex, until the piece is complete; then the goroutine verifying it.
type pieceBuffer struct {
	data        []byte
	received    int                      // blocks copied in
	outstanding int                      // requests for its blocks not yet answered, all peers
	senders     map[ConnKey]peerIdentity // who sent its blocks, for the ban list
	from        []ConnKey                // who sent each block (0: none yet), for the blame
	owner       ConnKey                  // the peer on parole downloading it alone; 0: anyone
}

// bufferPool lends piece-sized buffers, at most max at once: it bounds the partial pieces and
// so the memory of a download, whatever the file's size. Owner: the session's mutex.
type bufferPool struct {
	size, max, lent int
	free            [][]byte
}

func newBufferPool(size, maxBuffers int) bufferPool {
	return bufferPool{size: size, max: maxBuffers}
}

// get returns a buffer, or nil when max are lent.
func (p *bufferPool) get() []byte {
	if p.lent >= p.max {
		return nil
	}
	p.lent++
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	return make([]byte, p.size)
}

func (p *bufferPool) put(b []byte) {
	p.lent--
	p.free = append(p.free, b[:cap(b)])
}

func (p *bufferPool) full() bool { return p.lent >= p.max }

// fillAllLocked tops up the request pipeline of every connection (after requests were given
// back to the picker).
func (s *Session) fillAllLocked() {
	now := time.Now()
	for _, c := range s.conns {
		s.fillLocked(c, now)
	}
}

// refillFraction: a connection's pipeline is topped up once a 1/refillFraction of its depth was
// answered (at every block while it is shallower than refillFraction), which keeps it at least
// 3/4 full and spares the picker a call per block.
const refillFraction = 4

// fillLocked tops up c's request pipeline to its depth: RequestQueueTime of its rate
// (requests.go).
// New pieces are started only while a piece buffer is free; then only partial pieces are asked.
func (s *Session) fillLocked(c *conn, now time.Time) {
	if c.peerChoking || !c.amInterested || s.complete || !s.mayDownloadFromLocked(c) {
		return
	}
	depth := s.pipeline.requestDepth(c.down.Rate(now), c.snubbed)
	want := depth - len(c.outstanding)
	if want <= 0 || (len(c.outstanding) > 0 && want < depth/refillFraction) {
		return // a deep pipeline is topped up in batches: one Pick per several blocks
	}
	peerHas := c.has
	if s.buffers.full() || s.paroled > 0 {
		peerHas = s.pickableLocked(c)
	}
	s.scratch = s.picker.Pick(c.key, peerHas, want, s.scratch[:0])
	if len(s.scratch) == 0 && s.buffers.full() {
		s.evictStalledLocked()
	}
	for _, b := range s.scratch {
		pb := s.pieces[b.Piece]
		if pb == nil {
			buf := s.buffers.get()
			if buf == nil {
				s.picker.Release(c.key, b)
				continue
			}
			n := s.meta.PieceLen(b.Piece)
			pb = &pieceBuffer{data: buf[:n], senders: make(map[ConnKey]peerIdentity),
				from: make([]ConnKey, (n+blockLength-1)/blockLength)}
			if c.paroled {
				pb.owner = c.key
			}
			s.pieces[b.Piece] = pb
		}
		pb.outstanding++
		if len(c.outstanding) == 0 {
			c.waitingSince = now
		}
		c.outstanding[b] = now
		s.reqMsgs = append(s.reqMsgs, requestMessage(b))
	}
	clear(s.scratch)
	if len(s.reqMsgs) > 0 {
		c.send(s.reqMsgs...)
		clear(s.reqMsgs)
		s.reqMsgs = s.reqMsgs[:0]
	}
}

// pickableLocked returns the pieces of c.has that c may be asked for when the piece buffers are
// all taken (only partial pieces) or some peer is on parole: a piece started by a peer on parole
// is its alone, and a peer on parole gets no piece that others contribute to, so that the next
// corrupt piece has a single sender and is proof against it (libtorrent's parole mode).
func (s *Session) pickableLocked(c *conn) wire.Bitfield {
	if len(s.mask) != len(c.has) {
		s.mask = wire.NewBitfield(s.meta.NumPieces())
	}
	if s.buffers.full() {
		clear(s.mask)
		for piece := range s.pieces {
			if c.has.Has(piece) {
				s.mask.Set(piece)
			}
		}
	} else {
		copy(s.mask, c.has)
	}
	for piece, pb := range s.pieces {
		if (pb.owner != 0 && pb.owner != c.key) || (c.paroled && pb.owner != c.key) {
			s.mask.Clear(piece)
		}
	}
	return s.mask
}

// evictStalledLocked frees the buffer of a partial piece that no peer is sending (all its
// requests were given back): its received blocks are dropped and fetched again later. Without
// it, pieces whose holders left could hold every buffer and stall the download.
func (s *Session) evictStalledLocked() {
	for piece, pb := range s.pieces {
		if pb.outstanding == 0 {
			s.picker.PieceFailed(piece) // forget its received blocks; nobody is to blame
			s.freePieceLocked(piece, pb)
			return
		}
	}
}

// freePieceLocked returns a piece's buffer to the pool.
func (s *Session) freePieceLocked(piece int, pb *pieceBuffer) {
	if s.pieces[piece] == pb {
		delete(s.pieces, piece)
	}
	s.buffers.put(pb.data)
}

// releasedLocked accounts for one request of block b that will not be answered.
func (s *Session) releasedLocked(b Block) {
	pb := s.pieces[b.Piece]
	if pb == nil {
		return
	}
	pb.outstanding--
	if pb.outstanding == 0 && pb.received == 0 {
		s.freePieceLocked(b.Piece, pb)
	}
}

// releaseAllLocked gives every outstanding request of c back to the picker.
func (s *Session) releaseAllLocked(c *conn) {
	for b := range c.outstanding {
		s.picker.Release(c.key, b)
		s.releasedLocked(b)
	}
	clear(c.outstanding)
}

// onBlock takes one block from c: copied into its piece's buffer if we asked c for it and
// nobody delivered it first. The last block of a piece hands it to the verifier.
func (s *Session) onBlock(c *conn, b Block, payload []byte) error {
	if err := s.validBlock(b); err != nil {
		return err
	}
	now := time.Now()
	n := int64(len(payload))
	s.bytesDown.Add(n)
	s.mu.Lock()
	c.down.Add(now, n)
	s.dnMeter.Add(now, n)
	if _, asked := c.outstanding[b]; !asked {
		s.mu.Unlock()
		return nil // late (released after a timeout or choke) or unasked: dropped
	}
	delete(c.outstanding, b)
	c.contributed = true
	c.waitingSince, c.snubbed = now, false
	pb := s.pieces[b.Piece]
	pb.outstanding--
	accepted, complete, cancelAt := s.picker.Received(c.key, b)
	if accepted {
		copy(pb.data[b.Begin:], payload)
		pb.received++
		pb.senders[c.key] = c.identity()
		pb.from[b.Begin/blockLength] = c.key
	}
	for _, key := range cancelAt {
		if other := s.conns[key]; other != nil {
			if _, ok := other.outstanding[b]; ok {
				delete(other.outstanding, b)
				pb.outstanding--
				other.send(cancelMessage(b))
			}
		}
	}
	if complete {
		delete(s.pieces, b.Piece) // the verifier owns pb now
	}
	s.fillLocked(c, now)
	s.mu.Unlock()
	if complete {
		s.submitPiece(b.Piece, pb)
	}
	return nil
}

// verifyPiece checks a complete piece (SHA-256 merkle) outside the session's lock, writes it,
// then marks it had and announces it to every peer (publish-subscribe), or hands it back to the
// picker and its blocks to the blame (blame.go). The leaf hashes are computed only for a piece
// that failed, now or before.
func (s *Session) verifyPiece(piece int, pb *pieceBuffer) {
	ok := s.meta.VerifyPiece(piece, pb.data)
	var leaves []byte
	if !ok || s.suspected(piece) {
		leaves = s.meta.LeafHashes(pb.data)
	}
	if ok {
		if err := s.store.WritePiece(piece, pb.data); err != nil {
			s.fail(err)
			s.mu.Lock()
			s.picker.PieceFailed(piece)
			s.buffers.put(pb.data)
			s.mu.Unlock()
			return
		}
	}
	s.mu.Lock()
	if ok {
		s.sources.addLocked(pb.senders)
		s.pieceVerifiedLocked(piece)
		if leaves != nil {
			s.provenLocked(piece, leaves) // the smart ban: the leaves are proven now
		}
		if owner := s.conns[pb.owner]; owner != nil && owner.paroled {
			owner.paroled = false // it delivered a good piece alone
			s.paroled--
		}
	} else {
		s.pieceFailedLocked(piece, pb, leaves)
	}
	s.buffers.put(pb.data)
	complete := s.picker.Complete()
	s.fillAllLocked()
	s.mu.Unlock()
	if complete {
		s.goRun(func() { s.onComplete(true) })
	}
}

// pieceVerifiedLocked records a verified, written piece and sends Have to every connection.
func (s *Session) pieceVerifiedLocked(piece int) {
	s.picker.MarkHave(piece)
	s.have.Set(piece)
	for _, c := range s.conns {
		if c.has.Has(piece) {
			c.wanted--
			s.updateInterestLocked(c)
		}
		c.send(haveMessage(piece))
	}
}

// sanitizeID makes a peer id printable.
func sanitizeID(id [20]byte) []byte {
	out := make([]byte, len(id))
	for i, b := range id {
		if b < 0x20 || b > 0x7e {
			b = '.'
		}
		out[i] = b
	}
	return out
}

// checkRequestTimeouts gives back the requests of every connection that delivered nothing for
// RequestTimeout while asked, and snubs it: one request at a time until it delivers again.
func (s *Session) checkRequestTimeouts(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkHashTimeoutsLocked(now)
	released := false
	for _, c := range s.conns {
		if len(c.outstanding) == 0 || now.Sub(c.waitingSince) < s.cfg.RequestTimeout {
			continue
		}
		s.requestTimeouts.Add(int64(len(c.outstanding)))
		s.log.Debug("Requests timed out: peer snubbed", "peer", c.addr, "requests", len(c.outstanding))
		s.releaseAllLocked(c)
		c.snubbed = true
		released = true
	}
	if released {
		s.fillAllLocked()
	}
}
