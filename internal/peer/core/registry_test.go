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
		key, err := c.Connect(active, PeerInfo{ID: [20]byte{id}, Addr: netip.MustParseAddrPort("10.0.0.1:1"), Outgoing: outgoing})
		if err != nil {
			t.Fatal(err)
		}
		p := c.conns[key]
		p.amInterested, p.peerInterested = amInterested, peerInterested
		return key
	}
	add(1, false, true, false, long)                           // we want its pieces
	add(2, false, false, true, long)                           // it wants ours
	add(3, false, false, false, now)                           // a block just now
	four := add(4, false, false, false, now.Add(-grace))       // idle exactly the grace
	five := add(5, true, false, false, long.Add(-time.Second)) // idle longest, but we dialled it
	none := func(ConnKey) bool { return false }
	if v, _, _ := c.IdleVictim(now, grace, false, none); v != five {
		t.Fatalf("any: victim %v, want the one idle longest (%d)", v, five)
	}
	if v, _, _ := c.IdleVictim(now, grace, true, none); v != four {
		t.Fatalf("inbound only: victim %v, want the accepted one idle past the grace (%d)", v, four)
	}
	skipFour := func(k ConnKey) bool { return k == four }
	if v, _, ok := c.IdleVictim(now, grace, true, skipFour); ok {
		t.Fatalf("inbound only: victim %v, want none (the others bring something)", v)
	}
	if err := c.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
