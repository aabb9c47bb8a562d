package peer

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/backoff"
)

// Dialer limits: a remote party (the tracker) can grow the list of known addresses, so it is
// bounded; dials run a few at a time.
const (
	maxKnownPeers   = 1000
	maxParallelDial = 8
	dialScanEvery   = time.Second
)

// duplicateRedial is the wait before redialling a peer whose connection was refused because its
// id was connected already: no redial happens while that connection lasts, but when both peers
// dialled each other at once each may have kept the other's connection and refused its own,
// closing both; a short wait, spread widely, lets one of the next dials win.
var duplicateRedial = backoff.Policy{Initial: 300 * time.Millisecond, Max: time.Second, Multiplier: 1, Attempts: 1, Jitter: 0.8}

// redialPolicy spaces the dials of an address that failed or disconnected: the note's backoff
// (1 s, 2 s, 4 s ...), capped at 30 s, jittered.
var redialPolicy = backoff.Policy{Initial: time.Second, Max: 30 * time.Second, Multiplier: 2, Attempts: 1, Jitter: 0.2}

// knownPeer is what the dialer remembers of one address.
type knownPeer struct {
	id        [20]byte  // learned at the handshake; zero until then
	failures  int       // dials failed in a row
	nextTry   time.Time // not dialled before
	busy      bool      // being dialled or connected
	neverDial bool      // ourselves, banned, or a seed while we seed
}

// dialer keeps the addresses learned from the tracker and Config.Peers and dials those not
// connected, redialling with backoff, within MaxPeers and each address's share.
//
// Owner: mu guards known. Lock order: the session's mutex, then mu.
type dialer struct {
	s     *Session
	mu    sync.Mutex
	known map[netip.AddrPort]*knownPeer
	wake  chan struct{}
}

func newDialer(s *Session) *dialer {
	return &dialer{s: s, known: make(map[netip.AddrPort]*knownPeer), wake: make(chan struct{}, 1)}
}

// add learns addresses (from the tracker or the configuration) and wakes the dialer.
func (d *dialer) add(addrs []netip.AddrPort) {
	d.mu.Lock()
	for _, a := range addrs {
		if !a.IsValid() || a.Port() == 0 {
			continue
		}
		if _, ok := d.known[a]; !ok && len(d.known) < maxKnownPeers {
			d.known[a] = &knownPeer{}
		}
	}
	d.mu.Unlock()
	d.wakeUp()
}

// wakeUp makes the dialer scan its addresses now.
func (d *dialer) wakeUp() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run dials known addresses until the session ends.
func (d *dialer) run() {
	d.add(d.s.cfg.Peers)
	tick := time.NewTicker(dialScanEvery)
	defer tick.Stop()
	for {
		d.dialDue(time.Now())
		select {
		case <-d.s.ctx.Done():
			return
		case <-tick.C:
		case <-d.wake:
		}
	}
}

// dialDue starts dials to the addresses due, each in a slot it reserves: within MaxPeers and
// the address's share.
func (d *dialer) dialDue(now time.Time) {
	s := d.s
	s.mu.Lock()
	defer s.mu.Unlock() // lock order: the session's mutex, then the dialer's
	connected := s.core.ConnectedID
	d.mu.Lock()
	var due []netip.AddrPort
	for addr, k := range d.known {
		if len(due) >= maxParallelDial || s.slots.free(s.limits) <= 0 {
			break
		}
		if k.busy || k.neverDial || now.Before(k.nextTry) || connected(k.id) || s.isBanned(addr, k.id) ||
			!s.reserveDialLocked(addr) {
			continue
		}
		k.busy = true
		if k.failures > 0 {
			s.dialRetries.Add(1)
		}
		due = append(due, addr)
	}
	d.mu.Unlock()
	for _, addr := range due {
		s.goRun(func() { d.dial(addr) })
	}
}

// dial connects to addr (from our listen address's IP when it is a specific one, so that the
// peer sees the address we announce) and runs the connection in the slot reserved for it;
// failures push its next try back.
func (d *dialer) dial(addr netip.AddrPort) {
	nd := net.Dialer{Timeout: d.s.cfg.Timeout, LocalAddr: d.localAddr()}
	nc, err := nd.DialContext(d.s.ctx, "tcp", addr.String())
	if err == nil {
		err = d.s.runOutgoing(nc, addr)
	} else {
		d.s.releaseSlot(addr, true)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k := d.known[addr]
	if k == nil {
		return
	}
	k.busy = false
	switch {
	case errors.Is(err, errSelf), errors.Is(err, errBanned):
		k.neverDial = true
	case errors.Is(err, errDuplicate):
		wait := duplicateRedial.Delay(0)
		k.nextTry = time.Now().Add(wait)
		time.AfterFunc(wait, d.wakeUp) // sooner than the next scan
	case err != nil:
		k.nextTry = time.Now().Add(redialPolicy.Delay(k.failures))
		k.failures++
	}
}

// localAddr is the address dials (and announces) leave from: the listen address's IP, any
// port, when the session listens on one specific IP (a pod IP, or a loopback address other than
// 127.0.0.1 in tests), so that peers and the tracker see the address we can be reached at; nil
// (the system's choice) when it listens on every address.
func (d *dialer) localAddr() net.Addr {
	ip := d.s.Addr().Addr()
	if !ip.IsValid() || ip.IsUnspecified() {
		return nil
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0))
}

// connected records the peer id behind a dialled address (under the session's mutex).
func (d *dialer) connected(addr netip.AddrPort, id [20]byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if k := d.known[addr]; k != nil {
		k.id, k.failures = id, 0
	}
}

// disconnected schedules a redial of a dialled peer after the first backoff step (under the
// session's mutex).
func (d *dialer) disconnected(addr netip.AddrPort) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if k := d.known[addr]; k != nil {
		k.nextTry = time.Now().Add(redialPolicy.Delay(0))
	}
}

// seedSeen stops redialling a seed while we seed too (seeding).
func (d *dialer) seedSeen(addr netip.AddrPort, seeding bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if k := d.known[addr]; k != nil && seeding {
		k.neverDial = true
	}
}

// banned stops dialling a banned address.
func (d *dialer) banned(addr netip.AddrPort) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if k := d.known[addr]; k != nil {
		k.neverDial = true
	}
}

// evicted holds off redialling a dialled peer evicted for bringing nothing (under the session's
// mutex): it would most likely bring nothing again.
func (d *dialer) evicted(addr netip.AddrPort, wait time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if k := d.known[addr]; k != nil {
		k.nextTry = time.Now().Add(wait)
	}
}
