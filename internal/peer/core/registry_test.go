package core

import (
	"net/netip"
	"testing"
	"time"
)

func TestIdleVictimEvictsOnlyConnectionsThatBringNothing(t *testing.T) {
	c := testCore(t, 1<<20, 256<<10)
	now := time.Unix(5000, 0)
	grace := time.Minute
	long := now.Add(-10 * time.Minute)
	add := func(id byte, outgoing, amInterested, peerInterested bool, active time.Time) ConnKey {
		key := connect(t, c, active, PeerInfo{ID: [20]byte{id}, Addr: netip.MustParseAddrPort("10.0.0.1:1"), Outgoing: outgoing})
		p := c.conns[key]
		p.amInterested, p.peerInterested = amInterested, peerInterested
		return key
	}
	add(1, false, true, false, long)                           // we want its pieces
	add(2, false, false, true, long)                           // it wants ours
	add(3, false, false, false, now)                           // a block just now
	four := add(4, false, false, false, now.Add(-grace))       // idle exactly the grace
	five := add(5, true, false, false, long.Add(-time.Second)) // idle longest, but we dialled it
	c.limits.idleGrace = grace
	if v := c.idleVictim(now, false); v == nil || v.key != five {
		t.Fatalf("any: victim %+v, want the one idle longest (%d)", v, five)
	}
	if v := c.idleVictim(now, true); v == nil || v.key != four {
		t.Fatalf("inbound only: victim %+v, want the accepted one idle past the grace (%d)", v, four)
	}
	c.conns[four].evicted = true // closing already: not evicted twice
	if v := c.idleVictim(now, true); v != nil {
		t.Fatalf("inbound only: victim %+v, want none (the others bring something)", v)
	}
	if err := c.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
