package peer

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibit-io/minibit/internal/peer/core"
)

// dialScanEvery is how often the dialer asks the core which known addresses are due.
const dialScanEvery = time.Second

// dialer dials the addresses the core's directory says are due (core/directory.go), each in a
// slot the core reserved, and reports how each dial ended.
//
// Owner: the core holds its state; the dialer holds only its wake channel.
type dialer struct {
	s    *Session
	wake chan struct{}
}

func newDialer(s *Session) *dialer {
	return &dialer{s: s, wake: make(chan struct{}, 1)}
}

// add hands addresses (from the tracker or the configuration) to the core's directory and
// wakes the dialer.
func (d *dialer) add(addrs []netip.AddrPort) {
	d.s.event(func(c *core.Core) { c.AddPeers(addrs) })
	d.wakeUp()
}

// wakeUp makes the dialer ask for due addresses now.
func (d *dialer) wakeUp() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run dials due addresses until the session ends.
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

// dialDue starts the dials the core says are due.
func (d *dialer) dialDue(now time.Time) {
	s := d.s
	s.mu.Lock()
	due := s.core.DialDue(now, core.MaxParallelDials)
	s.mu.Unlock()
	for _, addr := range due {
		s.goRun(func() { d.dial(addr) })
	}
}

// dial connects to addr (from our listen address's IP when it is a specific one, so that the
// peer sees the address we announce) and runs the connection in the slot reserved for it, then
// tells the core how it ended.
func (d *dialer) dial(addr netip.AddrPort) {
	nd := net.Dialer{Timeout: d.s.cfg.Timeout, LocalAddr: d.localAddr(), Control: bindAddressNoPort}
	nc, err := nd.DialContext(d.s.ctx, "tcp", addr.String())
	if err == nil {
		err = d.s.runOutgoing(nc, addr)
	} else {
		d.s.releaseSlot(addr, true)
	}
	var wait time.Duration
	d.s.event(func(c *core.Core) { wait = c.DialEnded(time.Now(), addr, dialOutcome(err)) })
	if wait > 0 {
		time.AfterFunc(wait, d.wakeUp) // sooner than the next scan
	}
}

// dialOutcome classifies how a dial ended for the core's directory.
func dialOutcome(err error) core.DialOutcome {
	switch {
	case err == nil:
		return core.DialClosed
	case errors.Is(err, errSelf):
		return core.DialSelf
	case errors.Is(err, errBanned):
		return core.DialBanned
	case errors.Is(err, errDuplicate):
		return core.DialDuplicate
	}
	return core.DialFailed
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

// bindAddressNoPort lets the kernel choose a dial's source port at connect rather than at bind
// (IP_BIND_ADDRESS_NO_PORT): binding to our listen IP otherwise searches for a free port at
// every dial, which costs much when many peers share an address. Best effort: an error leaves
// the socket as it was.
func bindAddressNoPort(_, _ string, rc syscall.RawConn) error {
	return rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
}
