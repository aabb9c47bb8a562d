package peer

import (
	"net"
	"net/netip"
)

// Banned reports whether this session has banned the IP or the peer id (tests and operators
// ask it who was convicted).
func (s *Session) Banned(ip netip.Addr, id [20]byte) bool { return s.bans.Banned(ip, id) }

// localTCPAddr is the address outgoing connections (peer dials, tracker announces) are made
// from: the listen address's IP when the session listens on one specific IP (a pod IP, or a
// loopback address other than 127.0.0.1 in tests), so that other peers see the address they
// can reach us at, and a ban of another address on the same host does not hit us; nil (the
// system's choice) when it listens on all addresses.
func (s *Session) localTCPAddr() *net.TCPAddr {
	ip := s.Addr().Addr()
	if !ip.IsValid() || ip.IsUnspecified() {
		return nil
	}
	return &net.TCPAddr{IP: ip.AsSlice(), Zone: ip.Zone()}
}
