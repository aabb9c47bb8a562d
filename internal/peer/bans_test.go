package peer

import (
	"net/netip"
	"testing"
)

func identity(ip string, port uint16, id byte) peerIdentity {
	return peerIdentity{Addr: netip.AddrPortFrom(netip.MustParseAddr(ip), port), ID: [20]byte{id}}
}

func TestBanHoldsTheIPAndTheIDWhateverThePort(t *testing.T) {
	b := newBanList(10)
	bad := identity("10.0.0.1", 1111, 1)
	if !b.Ban(bad, banBadBlock) || b.Ban(bad, banBadBlock) {
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
	if b.Total() != 1 || b.ByReason()[banBadBlock] != 1 {
		t.Errorf("Total %d, by reason %v", b.Total(), b.ByReason())
	}
}

func TestBanOfASpoofedIDSparesItsOwner(t *testing.T) {
	b := newBanList(10)
	owner, spoofer := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.3")
	id := [20]byte{7}
	b.Presented(owner, id)
	if b.Presented(spoofer, id) {
		t.Fatal("banned before any ban")
	}
	b.Ban(peerIdentity{Addr: netip.AddrPortFrom(spoofer, 5000), ID: id}, banBadBlock)
	if !b.Banned(spoofer, [20]byte{}) {
		t.Error("the spoofer's IP is not banned")
	}
	if b.Presented(owner, id) {
		t.Error("the owner of the spoofed id is refused")
	}
}

func TestBanListIsBounded(t *testing.T) {
	b := newBanList(4)
	for i := range 10 {
		b.Ban(identity("10.0.1."+string(rune('0'+i)), 1, byte(i+1)), banBadHashes)
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

// flippingFile corrupts every read: a seeder that serves bad data.
type flippingFile struct{ file }

func (f flippingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.file.ReadAt(p, off)
	if n > 0 {
		p[n/2] ^= 0xff
	}
	return n, err
}

func TestCorruptPeerIsBannedAndDownloadEndsCorrect(t *testing.T) {
	src, meta := testTorrent(t, 2<<20, 32<<10)
	honestCfg := testConfig(t, meta, src)
	honestCfg.Seed, honestCfg.Trusted = true, true
	honestCfg.UploadRate = 2 << 20 // the corrupt peer gets its share of the requests
	honest := startSession(t, honestCfg)

	badCfg := testConfig(t, meta, src)
	badCfg.Seed, badCfg.Trusted = true, true
	badCfg.ListenAddr = "127.0.0.2:0" // bans hold the IP: the corrupt peer needs its own
	bad, err := New(badCfg)
	if err != nil {
		t.Fatal(err)
	}
	bad.store.file = flippingFile{bad.store.file}
	corrupt := runSession(t, bad)

	leecher := startSession(t, leecherConfig(t, meta, t.TempDir(), "", honest.Addr(), corrupt.Addr()))
	waitDone(t, leecher)
	assertSameFile(t, src, leecher.cfg.Path)
	st := leecher.Stats()
	if st.Bans != 1 || st.HashFailures == 0 {
		t.Fatalf("bans %d, hash failures %d: want the corrupt peer banned", st.Bans, st.HashFailures)
	}
	if !leecher.Banned(corrupt.Addr().Addr(), corrupt.PeerID()) || leecher.Banned(honest.Addr().Addr(), honest.PeerID()) {
		t.Error("the wrong peer is banned")
	}
}
