package peer

import (
	"net"
	"net/netip"
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
)

// DefaultHandshakeTimeout is how long a connection may take to send its handshake.
const DefaultHandshakeTimeout = 5 * time.Second

// The shell's side of admission (the core decides, core/admission.go): an accepted socket is
// offered to the half-open pool before any goroutine is spent on it; a socket the pool drops to
// make room is closed here.

// openHalf admits an accepted connection to the half-open pool, closing the connection it
// displaces, if any; or it returns why the connection is refused.
func (s *Session) openHalf(nc net.Conn, addr netip.AddrPort) (*core.HalfOpen, core.Refusal) {
	s.mu.Lock()
	h, dropped, r := s.core.Accept(addr, nc)
	s.applyLocked()
	s.mu.Unlock()
	if dc, ok := dropped.(net.Conn); ok {
		_ = dc.Close() // its goroutine reports it (HandshakeFailed or AdmitIncoming)
	}
	return h, r
}

// closeHalf takes h out of the half-open pool after a failed handshake.
func (s *Session) closeHalf(h *core.HalfOpen, addr netip.AddrPort, err error) {
	s.event(func(c *core.Core) { c.HandshakeFailed(h, addr, isTimeout(err)) })
}

// admitIncoming moves an accepted connection whose handshake came out of the half-open pool
// into an established slot (evicting a connection that brings nothing if it must), or returns
// why it is refused.
func (s *Session) admitIncoming(h *core.HalfOpen, addr netip.AddrPort, id [20]byte) core.Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.core.AdmitIncoming(time.Now(), h, addr, id)
	s.applyLocked()
	return r
}

// releaseSlot gives back the slot of a connection that never registered.
func (s *Session) releaseSlot(addr netip.AddrPort, outgoing bool) {
	s.event(func(c *core.Core) { c.ReleaseSlot(addr, outgoing) })
}

// slotStats fills the slot figures of st from the core's snapshot.
func slotStats(st *Stats, snap core.Snapshot) {
	st.HalfOpen = snap.HalfOpen
	st.Evictions = snap.Counters.Evictions
	st.Refused = make(map[string]int64, core.NumRefusals-1)
	for r := core.NotRefused + 1; r < core.NumRefusals; r++ {
		st.Refused[r.String()] = snap.Counters.Refusals[r]
	}
}
