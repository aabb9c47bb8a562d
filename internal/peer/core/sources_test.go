package core

import (
	"net/netip"
	"testing"
)

func TestSourcesCountsVerifiedPiecesPerSenderWithinABound(t *testing.T) {
	a := blockState{sender: 1, senderID: Identity{Addr: netip.MustParseAddrPort("10.0.0.1:6881")}}
	b := blockState{sender: 2, senderID: Identity{Addr: netip.MustParseAddrPort("10.0.0.2:6881")}}
	var s sources
	s.add([]blockState{a})
	s.add([]blockState{a, b})
	s.add([]blockState{a})
	peers, top := s.summary(5)
	if peers != 2 || top != "10.0.0.1:6881=3 10.0.0.2:6881=1" {
		t.Fatalf("summary: %d peers, %q", peers, top)
	}
	for i := range maxSources + 10 {
		addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 1)
		s.add([]blockState{{sender: 1, senderID: Identity{Addr: addr}}})
	}
	if len(s.pieces) != maxSources || s.others != 12 {
		t.Fatalf("%d sources kept and %d others, want the bound %d and 12 others", len(s.pieces), s.others, maxSources)
	}
}
