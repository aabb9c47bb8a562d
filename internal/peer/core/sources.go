package core

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// maxSources bounds the sources a session remembers: a peer that churns through many remote
// peers cannot grow the map without limit; the ones past the bound are counted together.
const maxSources = 1024

// sources counts, for each remote peer, the verified pieces it sent blocks of: the evidence
// that a download came from several peers and not only from the seeder. The session's mutex
// owns it (the core).
type sources struct {
	pieces map[netip.AddrPort]int
	others int // pieces whose senders came after the bound was reached
}

// add credits one verified piece to each peer that sent blocks of it (one block each).
func (s *sources) add(senders []blockState) {
	if s.pieces == nil {
		s.pieces = make(map[netip.AddrPort]int)
	}
	for _, b := range senders {
		if addr := b.senderID.Addr; s.pieces[addr] > 0 || len(s.pieces) < maxSources {
			s.pieces[addr]++
		} else {
			s.others++
		}
	}
}

// summary is "addr=pieces" for the top peers, most pieces first, and how many peers sent any.
func (s *sources) summary(top int) (peers int, text string) {
	type source struct {
		addr   netip.AddrPort
		pieces int
	}
	all := make([]source, 0, len(s.pieces))
	for addr, n := range s.pieces {
		all = append(all, source{addr, n})
	}
	slices.SortFunc(all, func(a, b source) int {
		return cmp.Or(cmp.Compare(b.pieces, a.pieces), a.addr.Compare(b.addr))
	})
	parts := make([]string, 0, top)
	for _, src := range all[:min(top, len(all))] {
		parts = append(parts, fmt.Sprintf("%s=%d", src.addr, src.pieces))
	}
	return len(all), strings.Join(parts, " ")
}
