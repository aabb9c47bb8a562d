package core

import (
	"errors"
	"net/netip"
	"slices"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// Errors of the connection registry: a connection refused or closed by the core.
var (
	ErrBanned    = errors.New("peer is banned")
	ErrDuplicate = errors.New("already connected to this peer")
	ErrBothSeeds = errors.New("both peers are seeds")
)

// PeerInfo is what the shell knows of a connection when its handshakes are done.
type PeerInfo struct {
	ID       [20]byte
	Addr     netip.AddrPort // the remote address (for a dialled peer, its listen address)
	Outgoing bool
	Fast     bool // both sides set the BEP 6 bit
	Hashes   bool // its handshake set the bit of the hash messages (blame.go)
	Extended bool // both sides set the extension protocol's bit (BEP 10, extension.go)
}

// peerConn is the core's state of one connection: BEP 3's four flags, the peer's pieces, its
// rates, its requests to us, parole and super-seeding offers. Our requests to it live in the
// download book (book.go), not here.
type peerConn struct {
	PeerInfo
	key            ConnKey
	connectedAt    time.Time
	lastActive     time.Time // a block went either way (or the connection started): for eviction
	lastBlock      time.Time // the last block it sent us: with the book's request times, its stall
	has            wire.Bitfield
	hasCount       int  // pieces set in has
	sawMessage     bool // a message came after the handshake (a bitfield may only come first)
	wanted         int  // pieces it has that we miss: we are interested while > 0
	amChoking      bool
	amInterested   bool
	peerChoking    bool
	peerInterested bool
	snubbed        bool  // its requests timed out: one at a time until it delivers
	paroled        bool  // it sent part of a corrupt piece: it downloads whole pieces alone
	evicted        bool  // closed for a newcomer, which took its slot at once
	contributed    bool  // it sent us a block we had asked for (the seeding choker remembers it)
	offered        []int // super-seeding: pieces offered to it and not yet announced by it
	uploads        []Block
	serving        servingState // the upload scheduler's memory of it (schedule.go)
	hashServing    int          // its hash requests being answered
	ext            extState
	down, up       *rateMeter
}

// isSeed reports whether p has all of the torrent's n pieces.
func (p *peerConn) isSeed(n int) bool { return p.hasCount == n }

// identity names p for the ban list.
func (p *peerConn) identity() Identity { return Identity{Addr: p.Addr, ID: p.ID} }

// Connect registers a connection past its handshakes, which holds a reserved slot (from
// AdmitIncoming or DialDue), unless the peer is banned or its id is connected already: a second
// connection claiming a connected peer's id never displaces the first. A refused connection
// gives its slot back. It queues our bitfield (and a super-seeder's first offer).
func (c *Core) Connect(now time.Time, info PeerInfo) (ConnKey, error) {
	var err error
	switch {
	case c.bans.Presented(info.Addr.Addr(), info.ID):
		err = ErrBanned
		c.refuse(RefusedBanned, info.Addr, "at registration")
	case c.byID[info.ID] != nil && info.Outgoing: // our dial found a peer connected already
		err = ErrDuplicate
		c.dialConnected(info.Addr, info.ID) // no redial while it is
	case c.byID[info.ID] != nil:
		err = ErrDuplicate
		c.refuse(RefusedDuplicateID, info.Addr, "at registration")
	}
	if err != nil {
		c.ReleaseSlot(info.Addr, info.Outgoing)
		return 0, err
	}
	c.nextKey++
	p := &peerConn{
		PeerInfo: info, key: c.nextKey, connectedAt: now, lastActive: now,
		has:       wire.NewBitfield(c.meta.NumPieces()),
		amChoking: true, peerChoking: true,
		down: newRateMeter(c.cfg.RateWindow, now),
		up:   newRateMeter(c.cfg.RateWindow, now),
	}
	c.conns[p.key] = p
	c.order = append(c.order, p) // keys grow: the order stays sorted
	c.byID[p.ID] = p
	if info.Outgoing {
		c.dialConnected(info.Addr, info.ID)
	}
	c.send(p.key, c.bitfieldMessage(p.Fast))
	c.sendExtHandshake(p)
	c.superSeed(p)
	if c.wantsUpload(p) {
		c.unchokeIfSlotFree(p) // a super-seeder's leecher: its unchoke brings its offers
	}
	return p.key, nil
}

// bitfieldMessage is our first message: HaveAll or HaveNone when both sides speak the fast
// extension and they say it all, else our bitfield.
func (c *Core) bitfieldMessage(fast bool) wire.Message {
	switch n := c.picker.HaveCount(); {
	case c.superSeeding():
		return superSeedBitfield(fast, c.meta.NumPieces())
	case fast && n == c.meta.NumPieces():
		return wire.Message{ID: wire.HaveAll}
	case fast && n == 0:
		return wire.Message{ID: wire.HaveNone}
	default:
		return wire.Message{ID: wire.BitfieldMsg, Payload: append([]byte(nil), c.have...)}
	}
}

// Disconnected forgets a closed connection: its pieces leave the availability, its requests go
// back to the picker and to the other connections, its slot is free, its address may be
// redialled. A key the core forgot already (it dropped the connection) is ignored.
func (c *Core) Disconnected(now time.Time, key ConnKey) {
	if p := c.conns[key]; p != nil {
		c.forget(now, p)
		c.fillAll(now)
	}
}

// drop forgets p and asks the shell to close it for err.
func (c *Core) drop(now time.Time, p *peerConn, err error) {
	c.forget(now, p)
	c.emit(Effect{Kind: Disconnect, Conn: p.key, Err: err})
}

// forget removes p from the registry, the availability and the download book, frees its slot
// and tells the directory.
func (c *Core) forget(now time.Time, p *peerConn) {
	delete(c.conns, p.key)
	if i := slices.Index(c.order, p); i >= 0 {
		c.order = slices.Delete(c.order, i, i+1)
	}
	if c.byID[p.ID] == p {
		delete(c.byID, p.ID)
	}
	c.picker.PeerLost(p.has)
	c.setParole(p, false)
	c.picker.PeerGone(p.key)
	c.ReleaseSlot(p.Addr, p.Outgoing)
	switch {
	case p.Outgoing && p.evicted:
		c.dialDisconnected(now, p.Addr, c.limits.idleGrace) // it would most likely bring nothing again
	case p.Outgoing:
		c.dialDisconnected(now, p.Addr, redialPolicy.DelayRand(0, c.rng))
	}
}

// Connected reports whether key is a registered connection.
func (c *Core) Connected(key ConnKey) bool { return c.conns[key] != nil }

// idleVictim is the connection to evict for a newcomer (inboundOnly: among accepted ones):
// among those that brought nothing for the grace period (no interest either way, no block
// either way), the one idle longest; nil if none. A connection exchanging data is never evicted.
func (c *Core) idleVictim(now time.Time, inboundOnly bool) *peerConn {
	var victim *peerConn
	for _, p := range c.order {
		if (inboundOnly && p.Outgoing) || p.amInterested || p.peerInterested || p.evicted {
			continue
		}
		if now.Sub(p.lastActive) < c.limits.idleGrace {
			continue
		}
		if victim == nil || p.lastActive.Before(victim.lastActive) ||
			(p.lastActive.Equal(victim.lastActive) && p.key < victim.key) {
			victim = p
		}
	}
	return victim
}

// Snapshot is a reading of the core's connections and rates.
type Snapshot struct {
	Conns                         int
	Choked, Unchoked              int
	Interested, Snubbed, ChokedBy int
	UploadRate, DownloadRate      float64
	PiecesHave, PiecesTotal       int
	BytesLeft                     int64
	Complete                      bool
	Counters                      Counters
	BansBadBlock, BansBadHashes   int64
	SuspectPieces, PeersOnParole  int
	PiecesStarted, BuffersLent    int
	HalfOpen                      int
}

// Snapshot reads the core at now.
func (c *Core) Snapshot(now time.Time) Snapshot {
	s := Snapshot{
		Conns: len(c.conns), UploadRate: c.upMeter.Rate(now), DownloadRate: c.dnMeter.Rate(now),
		PiecesHave: c.picker.HaveCount(), PiecesTotal: c.meta.NumPieces(), BytesLeft: c.BytesLeft(),
		Complete: c.complete, Counters: c.counters,
		SuspectPieces: len(c.blame.suspects), PeersOnParole: c.paroled, HalfOpen: c.halfOpen.total,
		PiecesStarted: len(c.picker.active), BuffersLent: c.buffers.lent,
	}
	byReason := c.bans.ByReason()
	s.BansBadBlock, s.BansBadHashes = byReason[BanBadBlock], byReason[BanBadHashes]
	for _, p := range c.conns {
		if p.amChoking {
			s.Choked++
		} else {
			s.Unchoked++
		}
		if p.peerInterested {
			s.Interested++
		}
		if p.snubbed {
			s.Snubbed++
		}
		if p.peerChoking {
			s.ChokedBy++
		}
	}
	return s
}

// FileComplete records that the file is finished (verified, written and renamed): we are
// interested in nobody any more, and connections to complete peers are closed.
func (c *Core) FileComplete(now time.Time) {
	c.complete = true
	for _, p := range slices.Clone(c.order) { // drop removes from the order
		c.updateInterest(p)
		if p.isSeed(c.meta.NumPieces()) {
			c.neverDial(p.Addr)
			c.drop(now, p, ErrBothSeeds)
		}
	}
}
