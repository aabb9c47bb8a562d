package core

import (
	"errors"
	"fmt"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// ErrProtocol marks a remote peer breaking the wire protocol; the shell closes the connection.
var ErrProtocol = errors.New("protocol violation")

func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// Receive validates one message of connection key's peer and applies it (BEP 3's state
// machine, the fast extension's messages of BEP 6 and BEP 52's hash messages). A non-nil error
// means the peer broke the protocol, or the core closed the connection: the shell closes it.
// A message for a key the core forgot (a connection it dropped) is ignored.
func (c *Core) Receive(now time.Time, key ConnKey, m wire.Message) error {
	p := c.conns[key]
	if p == nil || m.KeepAlive {
		return nil
	}
	first := !p.sawMessage
	p.sawMessage = p.sawMessage || m.ID != wire.Extended // an extension handshake may precede the bitfield
	err := c.dispatch(now, p, m, first)
	if err != nil && c.conns[key] == p {
		if errors.Is(err, ErrBothSeeds) {
			c.neverDial(p.Addr) // a seed, while we seed too
		}
		c.forget(now, p)
		c.fillAll(now)
	}
	return err
}

func (c *Core) dispatch(now time.Time, p *peerConn, m wire.Message, first bool) error {
	switch m.ID {
	case wire.Choke, wire.Unchoke, wire.Interested, wire.NotInterested:
		c.onState(now, p, m.ID)
		return nil
	case wire.Have:
		return c.onHave(now, p, int(m.Index))
	case wire.BitfieldMsg, wire.HaveAll, wire.HaveNone:
		return c.onBitfield(p, m, first)
	case wire.Request:
		return c.onRequest(p, blockOf(m))
	case wire.Cancel:
		return c.onCancel(p, blockOf(m))
	case wire.Piece:
		return c.onBlock(now, p, Block{Piece: int(m.Index), Begin: int(m.Begin), Length: len(m.Payload)}, m.Payload)
	case wire.Reject:
		return c.onReject(now, p, blockOf(m))
	case wire.Suggest, wire.AllowedFast:
		return c.onAdvice(p, m)
	case wire.Port: // DHT port (BEP 5): no DHT here
		return nil
	case wire.HashRequest: // BEP 52 (blame.go)
		return c.onHashRequest(p, m)
	case wire.Hashes:
		return c.onHashes(now, p, m)
	case wire.HashReject:
		return c.onHashReject(now, p, m)
	case wire.Extended: // BEP 10 (extension.go)
		return c.onExtended(now, p, m)
	}
	return protocolError("unknown message id %d", m.ID)
}

// blockOf is the block a Request, Cancel or Reject names.
func blockOf(m wire.Message) Block {
	return Block{Piece: int(m.Index), Begin: int(m.Begin), Length: int(m.Length)}
}

// validBlock checks that b lies inside its piece and is at most one block long.
func (c *Core) validBlock(b Block) error {
	n := c.meta.PieceLen(b.Piece) // 0 when out of range
	if n == 0 {
		return protocolError("piece index %d out of range (%d pieces)", b.Piece, c.meta.NumPieces())
	}
	if b.Length <= 0 || b.Length > blockLength || b.Begin < 0 || b.Begin+b.Length > n {
		return protocolError("block %d+%d of piece %d (length %d) out of range", b.Begin, b.Length, b.Piece, n)
	}
	return nil
}

// requireFast rejects a BEP 6 message on a connection that did not negotiate the extension.
func requireFast(p *peerConn, id wire.ID) error {
	if !p.Fast {
		return protocolError("fast-extension message %d without the extension", id)
	}
	return nil
}

// onState applies choke, unchoke, interested and not interested.
func (c *Core) onState(now time.Time, p *peerConn, id wire.ID) {
	switch id {
	case wire.Choke:
		p.peerChoking = true
		// BEP 6 would let us wait for rejects; releasing at once gets the blocks asked elsewhere.
		c.picker.ReleaseAll(p.key)
		c.fillAll(now)
	case wire.Unchoke:
		p.peerChoking = false
		c.fill(p, now)
	case wire.Interested:
		p.peerInterested = true
		c.unchokeIfSlotFree(p)
	case wire.NotInterested:
		p.peerInterested = false
		if !c.wantsUpload(p) {
			c.freeSlot(p)
		}
	}
}

// onHave records one piece the peer announced.
func (c *Core) onHave(now time.Time, p *peerConn, piece int) error {
	if piece < 0 || piece >= c.meta.NumPieces() {
		return protocolError("have %d out of range (%d pieces)", piece, c.meta.NumPieces())
	}
	if p.has.Has(piece) {
		return nil
	}
	p.has.Set(piece)
	p.hasCount++
	c.picker.PeerHas(piece)
	if !c.picker.Have(piece) {
		p.wanted++
		c.updateInterest(p)
		c.fill(p, now)
	}
	c.superSeed(p)
	return c.closeIfBothSeeds(p)
}

// onBitfield records the peer's pieces: a Bitfield, HaveAll or HaveNone, only as its first
// message.
func (c *Core) onBitfield(p *peerConn, m wire.Message, first bool) error {
	if m.ID != wire.BitfieldMsg {
		if err := requireFast(p, m.ID); err != nil {
			return err
		}
	}
	if !first {
		return protocolError("bitfield message %d after the first message", m.ID)
	}
	n := c.meta.NumPieces()
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
	p.has, p.hasCount = bf, bf.Count()
	c.picker.PeerHasAll(bf)
	p.wanted = 0
	for i := range n {
		if bf.Has(i) && !c.picker.Have(i) {
			p.wanted++
		}
	}
	c.updateInterest(p)
	c.superSeed(p)
	return c.closeIfBothSeeds(p)
}

// closeIfBothSeeds drops a connection between two complete peers: neither needs the other.
func (c *Core) closeIfBothSeeds(p *peerConn) error {
	if c.complete && p.isSeed(c.meta.NumPieces()) {
		return ErrBothSeeds
	}
	return nil
}

// updateInterest tells the peer whether we want something it has.
func (c *Core) updateInterest(p *peerConn) {
	want := p.wanted > 0 && !c.complete
	if want == p.amInterested {
		return
	}
	p.amInterested = want
	if want {
		c.send(p.key, wire.Message{ID: wire.Interested})
	} else {
		c.send(p.key, wire.Message{ID: wire.NotInterested})
	}
}

// onReject gives back a block the peer will not send.
func (c *Core) onReject(now time.Time, p *peerConn, b Block) error {
	if err := requireFast(p, wire.Reject); err != nil {
		return err
	}
	if err := c.validBlock(b); err != nil {
		return err
	}
	if c.picker.Requested(p.key, b) {
		c.picker.Release(p.key, b)
		c.fill(p, now)
	}
	return nil
}

// onAdvice validates Suggest and AllowedFast, which this peer does not act on.
func (c *Core) onAdvice(p *peerConn, m wire.Message) error {
	if err := requireFast(p, m.ID); err != nil {
		return err
	}
	if int(m.Index) >= c.meta.NumPieces() {
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
