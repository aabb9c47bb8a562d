package peer

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/wire"
)

// This file is the v1 twin (Config.V1Twin): the same pieces under the torrent's v1-only twin
// (metainfo.EncodeV1Twin), so that clients that know only BitTorrent v1 (aria2 1.36,
// Transmission 3.00) can trade with the session. The session accepts handshakes that carry the
// twin's info-hash, dials with it the peers the tracker lists only under the twin, and
// announces under both info-hashes. A twin connection is v1-only: our handshake sets neither
// the BEP 52 hash bit nor any other extension but the fast one, the core never asks it for
// hashes, and a BEP 52 message from it is a protocol error. Its pieces are the hybrid's pieces,
// verified with SHA-256 like any other; storage is shared.

// maxTwinAddrs bounds the addresses the twin remembers from the tracker's answers; past it the
// memory starts again (an address the twin forgot is dialled with the hybrid's info-hash and,
// if that fails, learnt again at the next announce).
const maxTwinAddrs = 4096

// twin is a session's v1 twin; a nil *twin (no Config.V1Twin) accepts and dials nothing.
type twin struct {
	infoHash [20]byte

	// Owner: mu guards addrs (the announcers' relays write it, dials read it).
	mu sync.Mutex
	// addrs holds the addresses of the tracker's answers: true when the hybrid's swarm listed
	// it (a MiniBit peer: dialled with the hybrid's info-hash), false when only the twin's did
	// (a v1-only client: dialled with the twin's).
	addrs map[netip.AddrPort]bool
}

// newTwin is the twin of cfg's torrent, or nil without cfg.V1Twin.
func newTwin(cfg Config) (*twin, error) {
	if !cfg.V1Twin {
		return nil, nil
	}
	_, h, err := cfg.Torrent.EncodeV1Twin()
	if err != nil {
		return nil, fmt.Errorf("peer: the v1 twin: %w", err)
	}
	return &twin{infoHash: h, addrs: make(map[netip.AddrPort]bool)}, nil
}

// is reports whether h is the twin's info-hash.
func (t *twin) is(h [20]byte) bool { return t != nil && h == t.infoHash }

// handshake is our handshake under the twin: its info-hash and the fast extension only.
func (t *twin) handshake(peerID [20]byte) wire.Handshake {
	h := wire.Handshake{InfoHash: t.infoHash, PeerID: peerID}
	h.SetFast()
	return h
}

// learn records the addresses of one tracker answer, of the twin's swarm (fromTwin) or of the
// hybrid's.
func (t *twin) learn(addrs []netip.AddrPort, fromTwin bool) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.addrs)+len(addrs) > maxTwinAddrs {
		clear(t.addrs)
	}
	for _, a := range addrs {
		a = unmapped(a)
		t.addrs[a] = t.addrs[a] || !fromTwin
	}
}

// dials reports whether addr is dialled under the twin: only the twin's swarm listed it.
func (t *twin) dials(addr netip.AddrPort) bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	hybrid, known := t.addrs[unmapped(addr)]
	return known && !hybrid
}

// unmapped is a with an IPv4-mapped IPv6 address turned into IPv4, as the tracker's lists and
// a socket's address may spell one address both ways.
func unmapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// mark makes c a v1-only connection when ours, the handshake we sent, carried the twin's
// info-hash: the core neither asks it for hashes nor talks the extension protocol with it.
func (t *twin) mark(c *conn, ours wire.Handshake) *conn {
	if t.is(ours.InfoHash) {
		c.twin = &twinConn{}
		c.info.Hashes, c.info.Extended = false, false
	}
	return c
}

// twinConn is the state of a v1-only connection that the core does not keep. Owner: the
// connection's reader goroutine.
type twinConn struct {
	sawMessage bool // a message other than a keep-alive came
}

// handle hands m to the core, through the v1 twin's rules on a twin connection.
func (c *conn) handle(m wire.Message) error {
	if c.twin == nil {
		return c.s.handleMessage(c, m)
	}
	first := !c.twin.sawMessage
	c.twin.sawMessage = true
	switch m.ID {
	case wire.HashRequest, wire.Hashes, wire.HashReject: // the twin torrent has no v2 hashes
		return protocolError("BEP 52 message %d on a v1-only connection (the v1 twin)", m.ID)
	case wire.BitfieldMsg, wire.HaveAll:
		if !first {
			return c.s.lateBitfield(c, m)
		}
	}
	return c.s.handleMessage(c, m)
}

// lateBitfield takes a bitfield (or have all) that a v1 client sends after its first message,
// which BEP 3 does not allow and the core refuses, as the have messages of its pieces: aria2
// 1.36 sends its bitfield again once it is interested. It is never taken as a loss of pieces.
func (s *Session) lateBitfield(c *conn, m wire.Message) error {
	n := s.meta.NumPieces()
	bf := wire.NewFullBitfield(n)
	switch {
	case m.ID == wire.HaveAll && !c.info.Fast:
		return protocolError("have all without the fast extension")
	case m.ID == wire.BitfieldMsg:
		var err error
		if bf, err = wire.ParseBitfield(m.Payload, n); err != nil {
			return protocolError("bitfield: %v", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.applyLocked()
	now := time.Now()
	for i := range n {
		if !bf.Has(i) {
			continue
		}
		if err := s.core.Receive(now, c.key, wire.Message{ID: wire.Have, Index: uint32(i)}); err != nil {
			return err
		}
	}
	return nil
}

// newTwinAnnouncer is the heartbeat under the twin's info-hash, with cfg's other settings; nil
// without a twin.
func (s *Session) newTwinAnnouncer(cfg client.AnnouncerConfig) (*client.Announcer, error) {
	if s.twin == nil {
		return nil, nil
	}
	cfg.InfoHash = s.twin.infoHash
	cfg.Logger = s.log.With("announce", "v1-twin")
	return client.NewAnnouncer(cfg)
}
