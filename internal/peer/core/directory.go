package core

import (
	"net/netip"
	"slices"
	"time"

	"github.com/minibit-io/minibit/internal/backoff"
)

// The peer directory: the addresses learned from the tracker's announce answers (and the
// static peer list), and which of them to dial when. An address not connected is dialled when
// a slot is free, redialled with the note's backoff after a failure or a disconnection, never
// again if it was ourselves, banned, or a seed while we seed too.

// Directory limits: a remote party (the tracker) can grow the list of known addresses, so it is
// bounded; dials run a few at a time.
const (
	maxKnownPeers = 1000
	// MaxParallelDials is how many dials run at once.
	MaxParallelDials = 8
)

// duplicateRedial is the wait before redialling a peer whose connection was refused because its
// id was connected already: no redial happens while that connection lasts, but when both peers
// dialled each other at once each may have kept the other's connection and refused its own,
// closing both; a short wait, spread widely, lets one of the next dials win.
var duplicateRedial = backoff.Policy{Initial: 300 * time.Millisecond, Max: time.Second, Multiplier: 1, Attempts: 1, Jitter: 0.8}

// redialPolicy spaces the dials of an address that failed or disconnected: the note's backoff
// (1 s, 2 s, 4 s ...), capped at 30 s, jittered.
var redialPolicy = backoff.Policy{Initial: time.Second, Max: 30 * time.Second, Multiplier: 2, Attempts: 1, Jitter: 0.2}

// knownPeer is what the directory remembers of one address.
type knownPeer struct {
	id        [20]byte  // learned at the handshake; zero until then
	failures  int       // dials failed in a row
	nextTry   time.Time // not dialled before
	busy      bool      // being dialled or connected
	neverDial bool      // ourselves, banned, or a seed while we seed
}

// DialOutcome is how a dial ended (after its connection, if it made one, closed).
type DialOutcome int

const (
	// DialClosed means the dial connected and the connection ended; its disconnection scheduled the
	// redial.
	DialClosed DialOutcome = iota
	// DialFailed means the dial or its handshake failed.
	DialFailed
	// DialSelf means the address is our own.
	DialSelf
	// DialBanned means the peer is banned.
	DialBanned
	// DialDuplicate means its id was connected already.
	DialDuplicate
)

// AddPeers learns addresses (an announce answer, or the configuration's static peers).
func (c *Core) AddPeers(addrs []netip.AddrPort) {
	if c.known == nil {
		c.known = make(map[netip.AddrPort]*knownPeer)
	}
	for _, a := range addrs {
		if !a.IsValid() || a.Port() == 0 {
			continue
		}
		if _, ok := c.known[a]; !ok && len(c.known) < maxKnownPeers {
			c.known[a] = &knownPeer{}
		}
	}
}

// DialDue returns the addresses to dial now, at most maxDials, each with a slot reserved
// (within MaxPeers and the address's share); the shell reports each one's end with DialEnded.
func (c *Core) DialDue(now time.Time, maxDials int) []netip.AddrPort {
	var due []netip.AddrPort
	if maxDials <= 0 || c.slots.free(c.limits) <= 0 {
		return due // no slot: spare the shuffle of every known address (each second, at every peer)
	}
	for _, addr := range c.knownAddrs() {
		if len(due) >= maxDials || c.slots.free(c.limits) <= 0 {
			break
		}
		k := c.known[addr]
		if k.busy || k.neverDial || now.Before(k.nextTry) || c.byID[k.id] != nil ||
			c.bans.Presented(addr.Addr(), k.id) || !c.reserveDial(addr) {
			continue
		}
		k.busy = true
		if k.failures > 0 {
			c.counters.DialRetries++
		}
		due = append(due, addr)
	}
	return due
}

// knownAddrs lists the known addresses in a random order drawn from the core's source: every
// peer does not dial the same addresses first, and a seed reproduces the order.
func (c *Core) knownAddrs() []netip.AddrPort {
	addrs := make([]netip.AddrPort, 0, len(c.known))
	for a := range c.known {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, func(a, b netip.AddrPort) int { return a.Compare(b) })
	c.rng.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	return addrs
}

// DialEnded records how the dial of addr ended (after its connection closed, if it made one);
// it returns the wait before a duplicate's redial is due (0 otherwise), so that the shell can
// look again then.
func (c *Core) DialEnded(now time.Time, addr netip.AddrPort, outcome DialOutcome) time.Duration {
	k := c.known[addr]
	if k == nil {
		return 0
	}
	k.busy = false
	switch outcome {
	case DialSelf, DialBanned:
		k.neverDial = true
	case DialDuplicate:
		wait := duplicateRedial.DelayRand(0, c.rng)
		k.nextTry = now.Add(wait)
		return wait
	case DialFailed:
		k.nextTry = now.Add(redialPolicy.DelayRand(k.failures, c.rng))
		k.failures++
	}
	return 0
}

// dialConnected records the peer id behind a dialled address.
func (c *Core) dialConnected(addr netip.AddrPort, id [20]byte) {
	if k := c.known[addr]; k != nil {
		k.id, k.failures = id, 0
	}
}

// dialDisconnected schedules a redial of a dialled peer after wait (the first backoff step, or
// an evicted peer's grace: it would most likely bring nothing again).
func (c *Core) dialDisconnected(now time.Time, addr netip.AddrPort, wait time.Duration) {
	if k := c.known[addr]; k != nil {
		k.nextTry = now.Add(wait)
	}
}

// neverDial stops dialling addr: banned, or a seed while we seed too.
func (c *Core) neverDial(addr netip.AddrPort) {
	if k := c.known[addr]; k != nil {
		k.neverDial = true
	}
}
