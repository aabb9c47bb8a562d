package peer

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/minibit-io/minibit/internal/metrics"
	"github.com/minibit-io/minibit/internal/peer/core"
)

// Connection slot defaults: one address must not hold the slots honest peers need (issue 10).
const (
	// DefaultMaxHalfOpen bounds the accepted connections still in their handshake.
	DefaultMaxHalfOpen = 32
	// DefaultMaxHalfOpenPerIP bounds the half-open connections of one remote address.
	DefaultMaxHalfOpenPerIP = 8
	// DefaultHandshakeTimeout is how long a connection may take to send its handshake.
	DefaultHandshakeTimeout = 5 * time.Second
	// DefaultMaxPeersPerIP is one address's share of the established connections: several
	// pods behind one node address still get in.
	DefaultMaxPeersPerIP = 8
	// DefaultOutgoingSlots are the connection slots kept for our own dials.
	DefaultOutgoingSlots = 10
	// DefaultEvictIdleAfter is how long a connection must have brought nothing (no interest
	// either way, no block either way) before a newcomer may take its slot.
	DefaultEvictIdleAfter = 30 * time.Second
)

// refusal is why a connection was refused (notRefused: it was not). Its name is the reason
// label of the peer's refusal metric.
type refusal int

const (
	notRefused refusal = iota
	refusedHalfOpenFull
	refusedHalfOpenPerIP
	refusedHandshakeTimeout
	refusedPerIP
	refusedNoSlot
	refusedDuplicateID
	refusedBanned
	numRefusals
)

var refusalNames = [numRefusals]string{
	notRefused:              "",
	refusedHalfOpenFull:     metrics.RefusedHalfOpenFull,
	refusedHalfOpenPerIP:    metrics.RefusedHalfOpenPerIP,
	refusedHandshakeTimeout: metrics.RefusedHandshakeTimeout,
	refusedPerIP:            metrics.RefusedPerIP,
	refusedNoSlot:           metrics.RefusedNoSlot,
	refusedDuplicateID:      metrics.RefusedDuplicateID,
	refusedBanned:           metrics.RefusedBanned,
}

func (r refusal) String() string { return refusalNames[r] }

// slotLimits are a session's connection limits, taken from its Config.
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

// halfOpen is one accepted connection that has not finished its handshake.
type halfOpen struct {
	nc      net.Conn
	ip      netip.Addr
	seq     uint64 // admission order: higher is newer
	dropped bool   // closed to make room for another address's newcomer
}

// halfOpenPool holds the accepted connections in their handshake, by remote address. When it
// is full a newcomer takes the slot of the newest connection of the address holding the most,
// so one address cannot starve the others.
//
// Owner: the session's mutex guards it (a test may use its own).
type halfOpenPool struct {
	byIP  map[netip.Addr][]*halfOpen // oldest first; at most halfOpenPerIP each
	total int
	seq   uint64
}

func newHalfOpenPool() halfOpenPool {
	return halfOpenPool{byIP: make(map[netip.Addr][]*halfOpen)}
}

// admit adds a connection from ip. It returns the entry, or the reason it is refused; dropped is
// a connection taken out to make room, which the caller closes.
func (p *halfOpenPool) admit(l slotLimits, nc net.Conn, ip netip.Addr) (h, dropped *halfOpen, r refusal) {
	mine := len(p.byIP[ip])
	if mine >= l.halfOpenPerIP {
		return nil, nil, refusedHalfOpenPerIP
	}
	if p.total >= l.halfOpen {
		dropped = p.newestOfLargest()
		// Swap only when the other address keeps at least as many as ip will hold.
		if dropped == nil || len(p.byIP[dropped.ip])-1 < mine+1 {
			return nil, nil, refusedHalfOpenFull
		}
		p.remove(dropped)
		dropped.dropped = true
	}
	p.seq++
	h = &halfOpen{nc: nc, ip: ip, seq: p.seq}
	p.byIP[ip] = append(p.byIP[ip], h)
	p.total++
	return h, dropped, notRefused
}

// newestOfLargest is the newest connection of the address holding the most half-open slots
// (of the newest such connection when several addresses hold as many).
func (p *halfOpenPool) newestOfLargest() *halfOpen {
	var best *halfOpen
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
func (p *halfOpenPool) remove(h *halfOpen) bool {
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
// Owner: the session's mutex guards it.
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
// eviction within scope, or not at all (the refusal). Our dials never evict: they wait for a
// free slot.
func (l slotLimits) decide(c *slotCounts, ip netip.Addr, outgoing bool) (evictScope, refusal) {
	switch {
	case c.byIP[ip] >= l.perIP:
		return noEviction, refusedPerIP
	case outgoing && c.in+c.out >= l.maxPeers:
		return noEviction, refusedNoSlot
	case outgoing:
		return noEviction, notRefused
	case c.in >= l.inboundCap():
		return evictInbound, notRefused
	case c.in+c.out >= l.maxPeers:
		return evictAny, notRefused
	}
	return noEviction, notRefused
}

// idleVictim is the connection to evict within scope: among those that brought nothing for the
// grace period (no interest either way, no block either way), the one idle longest; nil if none
// (the core's registry knows; an evicted connection still closing is skipped).
//
// Owner: the caller holds the session's mutex.
func (s *Session) idleVictim(scope evictScope, now time.Time) (*conn, time.Time) {
	skip := func(key core.ConnKey) bool { c := s.conns[key]; return c == nil || c.evicted }
	key, since, ok := s.core.IdleVictim(now, s.limits.idleGrace, scope == evictInbound, skip)
	if !ok {
		return nil, since
	}
	return s.conns[key], since
}

// errEvicted closes a connection that brought nothing, for a newcomer.
var errEvicted = errors.New("evicted: it brought nothing while a newcomer needed its slot")

// openHalf admits an accepted connection to the half-open pool, closing the connection it
// displaces, if any; or it returns why the connection is refused.
func (s *Session) openHalf(nc net.Conn, addr netip.AddrPort) (*halfOpen, refusal) {
	s.mu.Lock()
	h, dropped, r := s.halfOpen.admit(s.limits, nc, slotKey(addr))
	s.mu.Unlock()
	if dropped != nil {
		_ = dropped.nc.Close() // its goroutine counts it (closeHalf or admitIncoming tells it)
	}
	return h, r
}

// closeHalf takes h out of the half-open pool; it reports whether h was dropped for a newcomer.
func (s *Session) closeHalf(h *halfOpen) (dropped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.halfOpen.remove(h)
	return h.dropped
}

// admitIncoming moves an accepted connection whose handshake came (from the peer id) out of the
// half-open pool into an established slot, evicting a connection that brings nothing if it
// must. It returns why the connection is refused, or notRefused with the slot reserved.
func (s *Session) admitIncoming(h *halfOpen, addr netip.AddrPort, id [20]byte) refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.halfOpen.remove(h)
	switch {
	case h.dropped:
		return refusedHalfOpenFull
	case s.isBanned(addr, id):
		return refusedBanned
	case s.core.ConnectedID(id):
		return refusedDuplicateID
	}
	scope, r := s.limits.decide(&s.slots, h.ip, false)
	if r != notRefused {
		return r
	}
	if scope != noEviction {
		now := time.Now()
		victim, since := s.idleVictim(scope, now)
		if victim == nil {
			return refusedNoSlot
		}
		s.evictLocked(victim, addr, now.Sub(since))
	}
	s.slots.take(h.ip, false)
	return notRefused
}

// evictLocked closes victim and gives its slot to the newcomer at addr at once. The victim's
// own goroutine unregisters it as usual, once its reader has stopped.
func (s *Session) evictLocked(victim *conn, newcomer netip.AddrPort, idle time.Duration) {
	s.evictions.Add(1)
	s.log.Info("Peer evicted for a newcomer", "peer", victim.addr, "outgoing", victim.outgoing,
		"idle", idle.Round(time.Second), "newcomer", newcomer)
	victim.evicted = true
	victim.close(errEvicted)
	s.releaseSlotLocked(victim.addr, victim.outgoing)
}

// reserveDialLocked reserves a slot for a dial to addr; false if none is free or the address
// has its share.
func (s *Session) reserveDialLocked(addr netip.AddrPort) bool {
	ip := slotKey(addr)
	if _, r := s.limits.decide(&s.slots, ip, true); r != notRefused {
		return false
	}
	s.slots.take(ip, true)
	return true
}

// releaseSlot gives back the slot of a connection that ended or never registered.
func (s *Session) releaseSlot(addr netip.AddrPort, outgoing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseSlotLocked(addr, outgoing)
}

func (s *Session) releaseSlotLocked(addr netip.AddrPort, outgoing bool) {
	s.slots.release(slotKey(addr), outgoing)
}

// refused counts a refused connection and logs it at debug level.
func (s *Session) refused(r refusal, addr netip.AddrPort, why string) {
	s.refusals[r].Add(1)
	s.log.Debug("Connection refused", "peer", addr, "reason", r.String(), "detail", why)
}

// isBanned asks the ban list about a remote peer (a zero id: only its address).
func (s *Session) isBanned(addr netip.AddrPort, id [20]byte) bool {
	return s.bans.Presented(addr.Addr(), id) // bans hold the IP and the id (bans.go)
}

// slotStatsLocked fills the slot figures of st.
func (s *Session) slotStatsLocked(st *Stats) {
	st.HalfOpen = s.halfOpen.total
	st.Evictions = s.evictions.Load()
	st.Refused = make(map[string]int64, numRefusals-1)
	for r := notRefused + 1; r < numRefusals; r++ {
		st.Refused[r.String()] = s.refusals[r].Load()
	}
}
