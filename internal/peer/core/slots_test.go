package core

import (
	"net/netip"
	"testing"
	"time"
)

// testLimits are small limits that make every decision easy to reach.
func testLimits() slotLimits {
	return slotLimits{maxPeers: 10, perIP: 3, outgoing: 2, halfOpen: 4, halfOpenPerIP: 2, idleGrace: time.Minute}
}

var (
	ipA = netip.MustParseAddr("127.0.0.2")
	ipB = netip.MustParseAddr("127.0.0.3")
	ipC = netip.MustParseAddr("127.0.0.4")
	ipD = netip.MustParseAddr("127.0.0.5")
)

// admitAll admits one half-open connection per address in order and fails on a Refusal.
func admitAll(t *testing.T, p *halfOpenPool, l slotLimits, ips ...netip.Addr) []*HalfOpen {
	t.Helper()
	var hs []*HalfOpen
	for _, ip := range ips {
		h, dropped, r := p.admit(l, nil, ip)
		if r != NotRefused || dropped != nil {
			t.Fatalf("admit %v: refused %q, dropped %v", ip, r, dropped)
		}
		hs = append(hs, h)
	}
	return hs
}

func TestHalfOpenPoolRefusesAnAddressOverItsShare(t *testing.T) {
	l := testLimits()
	p := newHalfOpenPool()
	admitAll(t, &p, l, ipA, ipA)
	if _, _, r := p.admit(l, nil, ipA); r != RefusedHalfOpenPerIP {
		t.Fatalf("a third half-open connection from one address: %q, want %q", r, RefusedHalfOpenPerIP)
	}
	if p.total != 2 {
		t.Fatalf("pool holds %d, want 2", p.total)
	}
}

func TestHalfOpenPoolFullDropsTheNewestOfTheLargestAddress(t *testing.T) {
	l := testLimits()
	p := newHalfOpenPool()
	hs := admitAll(t, &p, l, ipA, ipB, ipA, ipB) // full: A and B hold 2 each
	h, dropped, r := p.admit(l, nil, ipC)
	if r != NotRefused || h == nil {
		t.Fatalf("a newcomer from a third address was refused (%q)", r)
	}
	if dropped != hs[3] || !dropped.dropped {
		t.Fatalf("dropped %+v, want the newest of the largest addresses (B's second)", dropped)
	}
	if p.total != 4 || len(p.byIP[ipB]) != 1 || len(p.byIP[ipC]) != 1 {
		t.Fatalf("pool after the swap: %d in all, B %d, C %d", p.total, len(p.byIP[ipB]), len(p.byIP[ipC]))
	}
	// Now A holds 2, B 1, C 1: a newcomer from D takes A's newest.
	if _, dropped, _ := p.admit(l, nil, ipD); dropped != hs[2] {
		t.Fatalf("dropped %+v, want A's second", dropped)
	}
	// Every address holds 1: nobody holds more than a newcomer would, so it is refused.
	if _, dropped, r := p.admit(l, nil, netip.MustParseAddr("127.0.0.6")); r != RefusedHalfOpenFull || dropped != nil {
		t.Fatalf("newcomer when every address holds one: %q, dropped %v; want refused, none dropped", r, dropped)
	}
	// An address already holding one is refused too: a swap would only move the slot.
	if _, dropped, r := p.admit(l, nil, ipA); r != RefusedHalfOpenFull || dropped != nil {
		t.Fatalf("A's newcomer: %q, dropped %v", r, dropped)
	}
}

func TestHalfOpenPoolRemove(t *testing.T) {
	l := testLimits()
	p := newHalfOpenPool()
	hs := admitAll(t, &p, l, ipA, ipA)
	if !p.remove(hs[0]) || p.remove(hs[0]) {
		t.Fatal("remove: want true once, then false")
	}
	if !p.remove(hs[1]) || p.total != 0 || len(p.byIP) != 0 {
		t.Fatalf("empty pool still holds %d entries, %d addresses", p.total, len(p.byIP))
	}
}

func TestDecideEstablished(t *testing.T) {
	l := testLimits() // 10 slots, 3 per address, 2 kept for dials: 8 inbound
	for _, tc := range []struct {
		name      string
		in, out   int
		fromIP    int // connections of the newcomer's address among in and out
		outgoing  bool
		wantScope evictScope
		wantR     Refusal
	}{
		{"free slot", 2, 2, 0, false, noEviction, NotRefused},
		{"address holds its share", 2, 2, 3, false, noEviction, RefusedPerIP},
		{"dial, address holds its share", 2, 2, 3, true, noEviction, RefusedPerIP},
		{"inbound share full", 8, 1, 0, false, evictInbound, NotRefused},
		{"dial with the inbound share full", 8, 1, 0, true, noEviction, NotRefused},
		{"every slot taken by dials", 2, 8, 0, false, evictAny, NotRefused},
		{"dial, every slot taken", 8, 2, 0, true, noEviction, RefusedNoSlot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newSlotCounts()
			c.in, c.out = tc.in, tc.out
			if tc.fromIP > 0 {
				c.byIP[ipA] = tc.fromIP
			}
			scope, r := l.decide(&c, ipA, tc.outgoing)
			if scope != tc.wantScope || r != tc.wantR {
				t.Fatalf("decide = (%d, %q), want (%d, %q)", scope, r, tc.wantScope, tc.wantR)
			}
		})
	}
}

func TestSlotCountsTakeAndRelease(t *testing.T) {
	c := newSlotCounts()
	c.take(ipA, false)
	c.take(ipA, true)
	if c.in != 1 || c.out != 1 || c.byIP[ipA] != 2 || c.free(testLimits()) != 8 {
		t.Fatalf("after two takes: %+v", c)
	}
	c.release(ipA, false)
	c.release(ipA, true)
	if c.in != 0 || c.out != 0 || len(c.byIP) != 0 {
		t.Fatalf("after releasing both: %+v", c)
	}
}

func TestLimitsKeepAtMostHalfForDials(t *testing.T) {
	cfg := Config{}.WithDefaults()
	if got := limitsOf(cfg); got.outgoing != DefaultOutgoingSlots || got.inboundCap() != DefaultMaxPeers-DefaultOutgoingSlots {
		t.Fatalf("default limits %+v", got)
	}
	cfg.MaxPeers = 5
	if got := limitsOf(cfg).outgoing; got != 2 {
		t.Fatalf("5 peers: %d kept for dials, want 2 (half)", got)
	}
	cfg.OutgoingSlots = -1
	if got := limitsOf(cfg).inboundCap(); got != 5 {
		t.Fatalf("none kept: inbound cap %d, want 5", got)
	}
}

func TestSlotKey(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.2:6881":         "127.0.0.2",
		"[::ffff:10.0.0.1]:6881": "10.0.0.1",
		"[2001:db8:1:2:3::4]:80": "2001:db8:1:2:3::4",
		"[fe80::1%eth0]:81":      "fe80::1",
	} {
		if got := slotKey(netip.MustParseAddrPort(in)); got.String() != want {
			t.Errorf("slotKey(%s) = %s, want %s", in, got, want)
		}
	}
}
