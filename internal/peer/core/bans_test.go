package core

import (
	"net/netip"
	"testing"
)

func identity(ip string, port uint16, id byte) Identity {
	return Identity{Addr: netip.AddrPortFrom(netip.MustParseAddr(ip), port), ID: [20]byte{id}}
}

func TestBanHoldsTheIPAndTheIDWhateverThePort(t *testing.T) {
	b := NewBanList(10)
	bad := identity("10.0.0.1", 1111, 1)
	if !b.Ban(bad, BanBadBlock) || b.Ban(bad, BanBadBlock) {
		t.Fatal("Ban reports a new ban once")
	}
	if !b.Banned(netip.MustParseAddr("10.0.0.1"), [20]byte{}) {
		t.Error("the IP is not banned (another port)")
	}
	if !b.Banned(netip.MustParseAddr("10.0.0.9"), bad.ID) {
		t.Error("the id is not banned from another IP")
	}
	if !b.Banned(netip.MustParseAddr("::ffff:10.0.0.1"), [20]byte{}) {
		t.Error("the IPv4-mapped form of the IP is not banned")
	}
	if b.Banned(netip.MustParseAddr("10.0.0.2"), [20]byte{2}) || b.Banned(netip.Addr{}, [20]byte{}) {
		t.Error("an innocent peer is banned")
	}
	if b.Total() != 1 || b.ByReason()[BanBadBlock] != 1 {
		t.Errorf("Total %d, by reason %v", b.Total(), b.ByReason())
	}
}

func TestBanOfASpoofedIDSparesItsOwner(t *testing.T) {
	b := NewBanList(10)
	owner, spoofer := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.3")
	id := [20]byte{7}
	b.Presented(owner, id)
	if b.Presented(spoofer, id) {
		t.Fatal("banned before any ban")
	}
	b.Ban(Identity{Addr: netip.AddrPortFrom(spoofer, 5000), ID: id}, BanBadBlock)
	if !b.Banned(spoofer, [20]byte{}) {
		t.Error("the spoofer's IP is not banned")
	}
	if b.Presented(owner, id) {
		t.Error("the owner of the spoofed id is refused")
	}
}

func TestBanListIsBounded(t *testing.T) {
	b := NewBanList(4)
	for i := range 10 {
		b.Ban(identity("10.0.1."+string(rune('0'+i)), 1, byte(i+1)), BanBadHashes)
	}
	if len(b.ids.count) > 4 || len(b.ips.count) > 4 {
		t.Fatalf("ban list holds %d ids and %d IPs, bound is 4", len(b.ids.count), len(b.ips.count))
	}
	if !b.Banned(netip.Addr{}, [20]byte{10}) {
		t.Error("the newest ban was evicted")
	}
	if b.Banned(netip.Addr{}, [20]byte{1}) {
		t.Error("the oldest ban survived beyond the bound")
	}
	for i := range 100 {
		b.Presented(netip.AddrFrom4([4]byte{10, 2, byte(i), 1}), [20]byte{byte(i)})
	}
	if len(b.seen.count) > 16 {
		t.Fatalf("the sightings hold %d entries, bound is 16", len(b.seen.count))
	}
}
