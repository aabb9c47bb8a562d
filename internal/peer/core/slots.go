package core

import (
	"net/netip"
	"time"
)

// Connection slots (admission): one address must not hold the slots honest peers need. Accepted
// connections wait for their handshake in a bounded half-open pool, where a full pool drops the
// newest connection of the address holding the most; established connections are bounded in
// all (MaxPeers), per address (MaxPeersPerIP) and inbound (MaxPeers - OutgoingSlots); a
// newcomer that finds no slot takes the one of a connection that brought nothing for
// EvictIdleAfter. The events are in admission.go.

// Connection slot defaults.
const (
	// DefaultMaxHalfOpen bounds the accepted connections still in their handshake.
	DefaultMaxHalfOpen = 32
	// DefaultMaxHalfOpenPerIP bounds the half-open connections of one remote address.
	DefaultMaxHalfOpenPerIP = 8
	// DefaultMaxPeersPerIP is one address's share of the established connections: several
	// pods behind one node address still get in.
	DefaultMaxPeersPerIP = 8
	// DefaultOutgoingSlots are the connection slots kept for our own dials.
	DefaultOutgoingSlots = 10
	// DefaultEvictIdleAfter is how long a connection must have brought nothing (no interest
	// either way, no block either way) before a newcomer may take its slot.
	DefaultEvictIdleAfter = 30 * time.Second
)

// Refusal is why a connection was refused (NotRefused: it was not). Its name is the reason
// label of the peer's refusal metric (internal/metrics; a test checks they agree).
type Refusal int

// The refusals: the half-open pool full or the address's share of it taken, no handshake in
// time, the address's share of established slots taken, no slot (nothing to evict), a
// duplicate peer id, a banned address or id.
const (
	NotRefused Refusal = iota
	RefusedHalfOpenFull
	RefusedHalfOpenPerIP
	RefusedHandshakeTimeout
	RefusedPerIP
	RefusedNoSlot
	RefusedDuplicateID
	RefusedBanned
	NumRefusals
)

var refusalNames = [NumRefusals]string{
	NotRefused:              "",
	RefusedHalfOpenFull:     "half_open_full",
	RefusedHalfOpenPerIP:    "half_open_per_ip",
	RefusedHandshakeTimeout: "handshake_timeout",
	RefusedPerIP:            "per_ip",
	RefusedNoSlot:           "no_slot",
	RefusedDuplicateID:      "duplicate_id",
	RefusedBanned:           "banned",
}

func (r Refusal) String() string { return refusalNames[r] }

// slotLimits are the connection limits, taken from the Config.
type slotLimits struct {
	maxPeers      int // established connections (and dials under way)
	perIP         int // one address's share of them
	outgoing      int // kept for our dials: inbound ones take at most maxPeers - outgoing
	halfOpen      int // accepted connections in their handshake
	halfOpenPerIP int
	idleGrace     time.Duration // a connection that brought nothing for so long may be evicted
}

// limitsOf reads the limits of a Config that has its defaults. The slots kept for dials are at
// most half of MaxPeers (a small --max-peers still accepts connections); a negative
// OutgoingSlots keeps none.
func limitsOf(cfg Config) slotLimits {
	return slotLimits{
		maxPeers:      cfg.MaxPeers,
		perIP:         cfg.MaxPeersPerIP,
		outgoing:      min(max(cfg.OutgoingSlots, 0), cfg.MaxPeers/2),
		halfOpen:      cfg.MaxHalfOpen,
		halfOpenPerIP: cfg.MaxHalfOpenPerIP,
		idleGrace:     cfg.EvictIdleAfter,
	}
}

// inboundCap is how many established slots connections we accepted may take.
func (l slotLimits) inboundCap() int { return l.maxPeers - l.outgoing }

// slotKey is the address a share is counted for: the remote IP (an IPv4-mapped address as
// IPv4). Not an IPv6 prefix: in a cluster each pod has its own address, chosen by the network
// plugin, and the pods of one node commonly share a /64.
func slotKey(ap netip.AddrPort) netip.Addr {
	return ap.Addr().Unmap().WithZone("")
}

// HalfOpen is one accepted connection that has not finished its handshake.
type HalfOpen struct {
	token   any // the shell's handle of the connection, given back to close it
	ip      netip.Addr
	seq     uint64 // admission order: higher is newer
	dropped bool   // closed to make room for another address's newcomer
}

// halfOpenPool holds the accepted connections in their handshake, by remote address. When it
// is full a newcomer takes the slot of the newest connection of the address holding the most,
// so one address cannot starve the others.
//
// Owner: the core.
type halfOpenPool struct {
	byIP  map[netip.Addr][]*HalfOpen // oldest first; at most halfOpenPerIP each
	total int
	seq   uint64
}

func newHalfOpenPool() halfOpenPool {
	return halfOpenPool{byIP: make(map[netip.Addr][]*HalfOpen)}
}

// admit adds a connection from ip. It returns the entry, or the reason it is refused; dropped is
// a connection taken out to make room, which the caller closes.
func (p *halfOpenPool) admit(l slotLimits, token any, ip netip.Addr) (h, dropped *HalfOpen, r Refusal) {
	mine := len(p.byIP[ip])
	if mine >= l.halfOpenPerIP {
		return nil, nil, RefusedHalfOpenPerIP
	}
	if p.total >= l.halfOpen {
		dropped = p.newestOfLargest()
		// Swap only when the other address keeps at least as many as ip will hold.
		if dropped == nil || len(p.byIP[dropped.ip])-1 < mine+1 {
			return nil, nil, RefusedHalfOpenFull
		}
		p.remove(dropped)
		dropped.dropped = true
	}
	p.seq++
	h = &HalfOpen{token: token, ip: ip, seq: p.seq}
	p.byIP[ip] = append(p.byIP[ip], h)
	p.total++
	return h, dropped, NotRefused
}

// newestOfLargest is the newest connection of the address holding the most half-open slots
// (of the newest such connection when several addresses hold as many).
func (p *halfOpenPool) newestOfLargest() *HalfOpen {
	var best *HalfOpen
	bestN := 0
	for _, hs := range p.byIP {
		n := len(hs)
		if n == 0 {
			continue
		}
		if newest := hs[n-1]; n > bestN || (n == bestN && newest.seq > best.seq) {
			best, bestN = newest, n
		}
	}
	return best
}

// remove takes h out of the pool; it reports whether h was in it.
func (p *halfOpenPool) remove(h *HalfOpen) bool {
	hs := p.byIP[h.ip]
	for i, x := range hs {
		if x == h {
			hs = append(hs[:i], hs[i+1:]...)
			if len(hs) == 0 {
				delete(p.byIP, h.ip)
			} else {
				p.byIP[h.ip] = hs
			}
			p.total--
			return true
		}
	}
	return false
}

// slotCounts counts the established connections by direction and address, with the slots
// reserved for dials under way and for accepted peers between admission and registration.
//
// Owner: the core.
type slotCounts struct {
	in, out int
	byIP    map[netip.Addr]int
}

func newSlotCounts() slotCounts { return slotCounts{byIP: make(map[netip.Addr]int)} }

func (c *slotCounts) take(ip netip.Addr, outgoing bool) {
	if outgoing {
		c.out++
	} else {
		c.in++
	}
	c.byIP[ip]++
}

func (c *slotCounts) release(ip netip.Addr, outgoing bool) {
	if outgoing {
		c.out--
	} else {
		c.in--
	}
	if c.byIP[ip]--; c.byIP[ip] <= 0 {
		delete(c.byIP, ip)
	}
}

// free is how many slots are neither taken nor reserved.
func (c *slotCounts) free(l slotLimits) int { return l.maxPeers - c.in - c.out }

// evictScope says which established connections may be evicted for a newcomer.
type evictScope int

const (
	noEviction   evictScope = iota
	evictInbound            // the inbound share is full: only an accepted connection frees it
	evictAny                // every slot is taken
)

// decide says whether a connection from ip may take an established slot: at once, after an
// eviction within scope, or not at all (the Refusal). Our dials never evict: they wait for a
// free slot.
func (l slotLimits) decide(c *slotCounts, ip netip.Addr, outgoing bool) (evictScope, Refusal) {
	switch {
	case c.byIP[ip] >= l.perIP:
		return noEviction, RefusedPerIP
	case outgoing && c.in+c.out >= l.maxPeers:
		return noEviction, RefusedNoSlot
	case outgoing:
		return noEviction, NotRefused
	case c.in >= l.inboundCap():
		return evictInbound, NotRefused
	case c.in+c.out >= l.maxPeers:
		return evictAny, NotRefused
	}
	return noEviction, NotRefused
}
