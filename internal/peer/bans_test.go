package peer

import (
	"net/netip"
	"testing"
)

func identity(port uint16, id byte) peerIdentity {
	return peerIdentity{Addr: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), port), ID: [20]byte{id}}
}

func TestBanListSoleSenderIsBanned(t *testing.T) {
	b := newBanList(3, 10)
	bad := identity(1, 1)
	if banned := b.PieceFailed([]peerIdentity{bad}); len(banned) != 1 || banned[0] != bad {
		t.Fatalf("banned %v, want the sole sender", banned)
	}
	if !b.Banned(bad.Addr, [20]byte{}) || !b.Banned(netip.AddrPort{}, bad.ID) {
		t.Error("the sole sender is not banned by address and by id")
	}
	if b.Banned(identity(2, 2).Addr, identity(2, 2).ID) {
		t.Error("an innocent peer is banned")
	}
	if b.Total() != 1 {
		t.Errorf("Total = %d, want 1", b.Total())
	}
}

func TestBanListThreeStrikes(t *testing.T) {
	b := newBanList(3, 10)
	a, c := identity(1, 1), identity(2, 2)
	for round := 1; round <= 2; round++ {
		if banned := b.PieceFailed([]peerIdentity{a, c}); len(banned) != 0 {
			t.Fatalf("strike %d banned %v", round, banned)
		}
	}
	if banned := b.PieceFailed([]peerIdentity{a, c}); len(banned) != 2 {
		t.Fatalf("third strike banned %v, want both", banned)
	}
	if b.Total() != 2 {
		t.Errorf("Total = %d, want 2", b.Total())
	}
}

func TestBanListIsBounded(t *testing.T) {
	b := newBanList(3, 4)
	for i := range 10 {
		b.PieceFailed([]peerIdentity{identity(uint16(i+1), byte(i+1))})
	}
	if len(b.ids.count) > 4 || len(b.addrs.count) > 4 {
		t.Fatalf("ban list holds %d ids and %d addresses, bound is 4", len(b.ids.count), len(b.addrs.count))
	}
	if !b.Banned(netip.AddrPort{}, identity(10, 10).ID) {
		t.Error("the newest ban was evicted")
	}
	if b.Banned(netip.AddrPort{}, identity(1, 1).ID) {
		t.Error("the oldest ban survived beyond the bound")
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
	if !leecher.bans.Banned(netip.AddrPort{}, corrupt.PeerID()) || leecher.bans.Banned(netip.AddrPort{}, honest.PeerID()) {
		t.Error("the wrong peer is banned")
	}
}
