package core

import (
	"errors"
	"log/slog"
	"net/netip"
	"time"
)

// Admission events: an accepted connection enters the half-open pool, leaves it with its
// handshake (admitted to an established slot, perhaps by evicting a connection that brings
// nothing) or without; a dial reserves its slot first (directory.go); a connection gives its
// slot back when the core forgets it (registry.go).

// ErrEvicted closes a connection that brought nothing, for a newcomer.
var ErrEvicted = errors.New("evicted: it brought nothing while a newcomer needed its slot")

// Accept admits a connection accepted from addr to the half-open pool; token is the shell's
// handle of it. It returns the pool's entry, or why the connection is refused (a banned address,
// the address's share or a full pool); dropped is the token of a connection taken out to make
// room (another address held more), which the shell closes.
func (c *Core) Accept(addr netip.AddrPort, token any) (h *HalfOpen, dropped any, r Refusal) {
	if c.bans.Presented(addr.Addr(), [20]byte{}) {
		c.refuse(RefusedBanned, addr, "on accept")
		return nil, nil, RefusedBanned
	}
	h, out, r := c.halfOpen.admit(c.limits, token, slotKey(addr))
	if r != NotRefused {
		c.refuse(r, addr, "on accept")
		return nil, nil, r
	}
	if out != nil {
		dropped = out.token
	}
	return h, dropped, NotRefused
}

// HandshakeFailed takes h out of the pool after its handshake failed (timedOut: it did not come
// in time) and counts why, if the reason is admission's: dropped for another address's
// newcomer, or a timeout.
func (c *Core) HandshakeFailed(h *HalfOpen, addr netip.AddrPort, timedOut bool) {
	c.halfOpen.remove(h)
	switch {
	case h.dropped:
		c.refuse(RefusedHalfOpenFull, addr, "dropped for another address's newcomer")
	case timedOut:
		c.refuse(RefusedHandshakeTimeout, addr, "no handshake in time")
	}
}

// AdmitIncoming moves an accepted connection whose handshake came (from peer id) out of the
// half-open pool into an established slot, evicting a connection that brings nothing if it
// must. It returns why the connection is refused, or NotRefused with the slot reserved (then
// Connect registers it, or ReleaseSlot gives the slot back).
func (c *Core) AdmitIncoming(now time.Time, h *HalfOpen, addr netip.AddrPort, id [20]byte) Refusal {
	c.halfOpen.remove(h)
	r := c.admission(now, h, addr, id)
	if r != NotRefused {
		c.refuse(r, addr, "after its handshake")
	}
	return r
}

func (c *Core) admission(now time.Time, h *HalfOpen, addr netip.AddrPort, id [20]byte) Refusal {
	switch {
	case h.dropped:
		return RefusedHalfOpenFull
	case c.bans.Presented(addr.Addr(), id):
		return RefusedBanned
	case c.byID[id] != nil:
		return RefusedDuplicateID
	}
	scope, r := c.limits.decide(&c.slots, h.ip, false)
	if r != NotRefused {
		return r
	}
	if scope != noEviction {
		victim := c.idleVictim(now, scope == evictInbound)
		if victim == nil {
			return RefusedNoSlot
		}
		c.evict(now, victim, addr)
	}
	c.slots.take(h.ip, false)
	return NotRefused
}

// evict closes victim and gives its slot to the newcomer at addr at once.
func (c *Core) evict(now time.Time, victim *peerConn, newcomer netip.AddrPort) {
	c.counters.Evictions++
	c.logf(slog.LevelInfo, "Peer evicted for a newcomer", "peer", victim.Addr, "outgoing", victim.Outgoing,
		"idle", now.Sub(victim.lastActive).Round(time.Second), "newcomer", newcomer)
	victim.evicted = true
	c.drop(now, victim, ErrEvicted)
}

// reserveDial reserves a slot for a dial to addr; false if none is free or the address has
// its share.
func (c *Core) reserveDial(addr netip.AddrPort) bool {
	ip := slotKey(addr)
	if _, r := c.limits.decide(&c.slots, ip, true); r != NotRefused {
		return false
	}
	c.slots.take(ip, true)
	return true
}

// ReleaseSlot gives back the slot reserved for a connection that never registered (its
// handshake failed after admission, or the session is stopping).
func (c *Core) ReleaseSlot(addr netip.AddrPort, outgoing bool) {
	c.slots.release(slotKey(addr), outgoing)
}

// refuse counts a refused connection and logs it at debug level.
func (c *Core) refuse(r Refusal, addr netip.AddrPort, why string) {
	c.counters.Refusals[r]++
	c.logf(slog.LevelDebug, "Connection refused", "peer", addr, "reason", r.String(), "detail", why)
}

// SlotsInUse reports the established and reserved slots (in, out) and the addresses holding
// any, and the half-open connections; all zero once every connection ended.
func (c *Core) SlotsInUse() (in, out, addrs, halfOpen int) {
	return c.slots.in, c.slots.out, len(c.slots.byIP), c.halfOpen.total
}
