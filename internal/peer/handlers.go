package peer

import (
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// handleMessage validates one message of c's peer and applies it (BEP 3's state machine and the
// fast extension's messages, BEP 6). An error closes the connection.
func (s *Session) handleMessage(c *conn, m wire.Message) error {
	s.mu.Lock()
	first := !c.sawMessage
	c.sawMessage = true
	s.mu.Unlock()
	switch m.ID {
	case wire.Choke, wire.Unchoke, wire.Interested, wire.NotInterested:
		return s.onState(c, m.ID)
	case wire.Have:
		return s.onHave(c, int(m.Index))
	case wire.BitfieldMsg, wire.HaveAll, wire.HaveNone:
		return s.onBitfield(c, m, first)
	case wire.Request:
		return s.onRequest(c, blockOf(m))
	case wire.Cancel:
		return s.onCancel(c, blockOf(m))
	case wire.Piece:
		return s.onBlock(c, Block{Piece: int(m.Index), Begin: int(m.Begin), Length: len(m.Payload)}, m.Payload)
	case wire.Reject:
		return s.onReject(c, blockOf(m))
	case wire.Suggest, wire.AllowedFast:
		return s.onAdvice(c, m)
	case wire.Port: // DHT port (BEP 5): no DHT here
		return nil
	case wire.HashRequest: // BEP 52 (blame.go)
		return s.onHashRequest(c, m)
	case wire.Hashes:
		return s.onHashes(c, m)
	case wire.HashReject:
		return s.onHashReject(c, m)
	}
	return protocolError("unknown message id %d", m.ID)
}

// blockOf is the block a Request, Cancel or Reject names.
func blockOf(m wire.Message) Block {
	return Block{Piece: int(m.Index), Begin: int(m.Begin), Length: int(m.Length)}
}

// validBlock checks that b lies inside its piece and is at most one block long.
func (s *Session) validBlock(b Block) error {
	n := s.meta.PieceLen(b.Piece) // 0 when out of range
	if n == 0 {
		return protocolError("piece index %d out of range (%d pieces)", b.Piece, s.meta.NumPieces())
	}
	if b.Length <= 0 || b.Length > blockLength || b.Begin < 0 || b.Begin+b.Length > n {
		return protocolError("block %d+%d of piece %d (length %d) out of range", b.Begin, b.Length, b.Piece, n)
	}
	return nil
}

// requireFast rejects a BEP 6 message on a connection that did not negotiate the extension.
func requireFast(c *conn, id wire.ID) error {
	if !c.fast {
		return protocolError("fast-extension message %d without the extension", id)
	}
	return nil
}

// onState applies choke, unchoke, interested and not interested.
func (s *Session) onState(c *conn, id wire.ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch id {
	case wire.Choke:
		c.peerChoking = true
		// BEP 6 would let us wait for rejects; releasing at once gets the blocks asked elsewhere.
		s.releaseAllLocked(c)
		s.fillAllLocked()
	case wire.Unchoke:
		c.peerChoking = false
		s.fillLocked(c, time.Now())
	case wire.Interested:
		c.peerInterested = true
		s.unchokeIfSlotFreeLocked(c)
	case wire.NotInterested:
		c.peerInterested = false
		s.freeSlotLocked(c)
	}
	return nil
}

// onHave records one piece the peer announced.
func (s *Session) onHave(c *conn, piece int) error {
	if piece < 0 || piece >= s.meta.NumPieces() {
		return protocolError("have %d out of range (%d pieces)", piece, s.meta.NumPieces())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.has.Has(piece) {
		return nil
	}
	c.has.Set(piece)
	s.picker.PeerHas(piece)
	if !s.picker.Have(piece) {
		c.wanted++
		s.updateInterestLocked(c)
		s.fillLocked(c, time.Now())
	}
	s.superSeedLocked(c)
	return s.closeIfBothSeedsLocked(c)
}

// onBitfield records the peer's pieces: a Bitfield, HaveAll or HaveNone, only as its first
// message.
func (s *Session) onBitfield(c *conn, m wire.Message, first bool) error {
	if m.ID != wire.BitfieldMsg {
		if err := requireFast(c, m.ID); err != nil {
			return err
		}
	}
	if !first {
		return protocolError("bitfield message %d after the first message", m.ID)
	}
	n := s.meta.NumPieces()
	var bf wire.Bitfield
	switch m.ID {
	case wire.BitfieldMsg:
		var err error
		if bf, err = wire.ParseBitfield(m.Payload, n); err != nil {
			return protocolError("bitfield: %v", err)
		}
	case wire.HaveAll:
		bf = wire.NewFullBitfield(n)
	case wire.HaveNone:
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c.has = bf
	s.picker.PeerHasAll(bf)
	c.wanted = 0
	for i := range n {
		if bf.Has(i) && !s.picker.Have(i) {
			c.wanted++
		}
	}
	s.updateInterestLocked(c)
	s.superSeedLocked(c)
	return s.closeIfBothSeedsLocked(c)
}

// closeIfBothSeedsLocked drops a connection between two complete peers: neither needs the other.
func (s *Session) closeIfBothSeedsLocked(c *conn) error {
	if s.complete && c.has.Count() == s.meta.NumPieces() {
		s.dialer.seedSeen(c.addr)
		return errBothSeeds
	}
	return nil
}

// updateInterestLocked tells the peer whether we want something it has.
func (s *Session) updateInterestLocked(c *conn) {
	want := c.wanted > 0 && !s.complete
	if want == c.amInterested {
		return
	}
	c.amInterested = want
	if want {
		c.send(wire.Message{ID: wire.Interested})
	} else {
		c.send(wire.Message{ID: wire.NotInterested})
	}
}

// onRequest queues a valid request from an unchoked peer for a piece we have. Otherwise a fast
// peer gets a Reject; a request while choked is ignored by BEP 3 peers.
func (s *Session) onRequest(c *conn, b Block) error {
	if err := s.validBlock(b); err != nil {
		return err
	}
	s.mu.Lock()
	ok := !c.amChoking && s.picker.Have(b.Piece)
	s.mu.Unlock()
	if !ok {
		if c.fast {
			c.send(rejectMessage(b))
		}
		return nil
	}
	return c.queueUpload(b, s.cfg.MaxPeerRequests)
}

// onCancel drops a queued request (a fast peer gets a Reject for it, as BEP 6 asks).
func (s *Session) onCancel(c *conn, b Block) error {
	if err := s.validBlock(b); err != nil {
		return err
	}
	if c.cancelUpload(b) && c.fast {
		c.send(rejectMessage(b))
	}
	return nil
}

// onReject gives back a block the peer will not send.
func (s *Session) onReject(c *conn, b Block) error {
	if err := requireFast(c, wire.Reject); err != nil {
		return err
	}
	if err := s.validBlock(b); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := c.outstanding[b]; ok {
		delete(c.outstanding, b)
		s.picker.Release(c.key, b)
		s.releasedLocked(b)
		s.fillLocked(c, time.Now())
	}
	return nil
}

// onAdvice validates Suggest and AllowedFast, which this peer does not act on.
func (s *Session) onAdvice(c *conn, m wire.Message) error {
	if err := requireFast(c, m.ID); err != nil {
		return err
	}
	if int(m.Index) >= s.meta.NumPieces() {
		return protocolError("message %d: piece index %d out of range", m.ID, m.Index)
	}
	return nil
}

// Message constructors.
func requestMessage(b Block) wire.Message {
	return wire.Message{ID: wire.Request, Index: uint32(b.Piece), Begin: uint32(b.Begin), Length: uint32(b.Length)}
}

func cancelMessage(b Block) wire.Message {
	return wire.Message{ID: wire.Cancel, Index: uint32(b.Piece), Begin: uint32(b.Begin), Length: uint32(b.Length)}
}

func rejectMessage(b Block) wire.Message {
	return wire.Message{ID: wire.Reject, Index: uint32(b.Piece), Begin: uint32(b.Begin), Length: uint32(b.Length)}
}

func haveMessage(piece int) wire.Message {
	return wire.Message{ID: wire.Have, Index: uint32(piece)}
}
