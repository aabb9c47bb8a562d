package protocol

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// This file is BEP 23's compact peers (and BEP 7's for IPv6), written by the tracker and read
// by the client: each peer is its IP's 4 or 16 bytes, then its port, in network byte order.

// parseCompact appends the BEP 23 entries of data: ipLen bytes of IP, then a big-endian port.
func parseCompact(dst []netip.AddrPort, data []byte, ipLen int) ([]netip.AddrPort, error) {
	size := ipLen + 2
	if len(data)%size != 0 {
		return nil, fmt.Errorf("compact peers of %d bytes are not a multiple of %d", len(data), size)
	}
	for off := 0; off < len(data); off += size {
		ip, _ := netip.AddrFromSlice(data[off : off+ipLen])
		dst = append(dst, netip.AddrPortFrom(ip.Unmap(), binary.BigEndian.Uint16(data[off+ipLen:])))
	}
	return dst, nil
}

// AppendCompact appends ap as BEP 23 does: the IP's 4 (or, BEP 7, 16) bytes, then the port,
// both in network byte order.
func AppendCompact(b []byte, ap netip.AddrPort) []byte {
	if ip := ap.Addr(); ip.Is4() {
		a4 := ip.As4()
		b = append(b, a4[:]...)
	} else {
		a16 := ip.As16()
		b = append(b, a16[:]...)
	}
	return binary.BigEndian.AppendUint16(b, ap.Port())
}
