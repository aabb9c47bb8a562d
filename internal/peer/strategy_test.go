package peer

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/minibit-io/minibit/internal/metainfo"
)

func TestParsePieceStrategy(t *testing.T) {
	for in, want := range map[string]PieceStrategy{"": RarestFirst, "rarest": RarestFirst, "random": RandomPiece} {
		if got, err := ParsePieceStrategy(in); err != nil || got != want {
			t.Errorf("ParsePieceStrategy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParsePieceStrategy("sequential"); err == nil {
		t.Error("ParsePieceStrategy accepted an unknown strategy")
	}
	_, meta := testTorrent(t, 64<<10, 16<<10)
	cfg := testConfig(t, meta, filepath.Join(t.TempDir(), "x"))
	cfg.PieceStrategy = "sequential"
	if _, err := New(cfg); err == nil {
		t.Error("New accepted an unknown piece strategy")
	}
}

// A swarm of random pickers still delivers every copy intact.
func TestRandomPieceSwarmCompletes(t *testing.T) {
	src, meta := testTorrent(t, 2<<20, 32<<10)
	seeder := startSession(t, seedConfig(t, meta, src))
	var leechers []*running
	for range 3 {
		cfg := leecherConfig(t, meta, t.TempDir(), "", seeder.Addr())
		cfg.PieceStrategy = RandomPiece
		leechers = append(leechers, startSession(t, cfg))
	}
	for _, l := range leechers {
		waitDone(t, l)
		assertSameFile(t, src, l.cfg.Path)
	}
}

// A free-rider (NoUpload) completes from the others and never uploads a byte; the compliant
// leecher still does.
func TestFreeRiderUploadsNothing(t *testing.T) {
	src, meta := testTorrent(t, 2<<20, 32<<10)
	seeder := startSession(t, seedConfig(t, meta, src))
	riderCfg := leecherConfig(t, meta, t.TempDir(), "", seeder.Addr())
	riderCfg.NoUpload = true
	rider := startSession(t, riderCfg)
	honest := startSession(t, leecherConfig(t, meta, t.TempDir(), "", seeder.Addr(), rider.Addr()))
	waitDone(t, rider)
	waitDone(t, honest)
	assertSameFile(t, src, rider.cfg.Path)
	if up := rider.Stats().BytesUploaded; up != 0 {
		t.Errorf("the free-rider uploaded %d bytes", up)
	}
	if st := rider.Stats(); st.PeersUnchoked != 0 {
		t.Errorf("the free-rider unchoked %d peers", st.PeersUnchoked)
	}
}

// Client-server clients (SeedsOnly + NoUpload), connected to each other too, take every byte
// from the seeder.
func TestClientServerDownloadsOnlyFromSeeds(t *testing.T) {
	src, meta := testTorrent(t, 1<<20, 32<<10)
	seeder := startSession(t, seedConfig(t, meta, src))
	var clients []*running
	for range 3 {
		var peers = []netip.AddrPort{seeder.Addr()}
		for _, c := range clients {
			peers = append(peers, c.Addr())
		}
		cfg := leecherConfig(t, meta, t.TempDir(), "", peers...)
		cfg.NoUpload, cfg.SeedsOnly = true, true
		clients = append(clients, startSession(t, cfg))
	}
	for _, c := range clients {
		waitDone(t, c)
		assertSameFile(t, src, c.cfg.Path)
		if up := c.Stats().BytesUploaded; up != 0 {
			t.Errorf("a client uploaded %d bytes", up)
		}
	}
	if up, min := seeder.Stats().BytesUploaded, 3*meta.Info.Length; up < min {
		t.Errorf("the seeder uploaded %d bytes, less than the %d the clients took", up, min)
	}
}

func TestHaveBitfieldIsACopy(t *testing.T) {
	src, meta := testTorrent(t, 256<<10, 32<<10)
	s, err := New(seedConfig(t, meta, src))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bf := s.HaveBitfield()
	if bf.Count() != meta.NumPieces() {
		t.Fatalf("seeder has %d of %d pieces", bf.Count(), meta.NumPieces())
	}
	bf.Clear(0)
	if !s.HaveBitfield().Has(0) {
		t.Error("HaveBitfield returned the session's own bitfield")
	}
}

// seedConfig is the config of a seeder of the file at path, without a tracker.
func seedConfig(t testing.TB, meta *metainfo.MetaInfo, path string) Config {
	cfg := testConfig(t, meta, path)
	cfg.Seed, cfg.Trusted = true, true
	return cfg
}

// A super-seeder (BEP 16) claims no piece at first and offers pieces one by one; the swarm still
// completes, every copy intact.
func TestSuperSeedSwarmCompletes(t *testing.T) {
	src, meta := testTorrent(t, 2<<20, 32<<10)
	cfg := seedConfig(t, meta, src)
	cfg.SuperSeed = true
	seeder := startSession(t, cfg)
	var leechers []*running
	for range 4 {
		var peers = []netip.AddrPort{seeder.Addr()}
		for _, l := range leechers {
			peers = append(peers, l.Addr())
		}
		leechers = append(leechers, startSession(t, leecherConfig(t, meta, t.TempDir(), "", peers...)))
	}
	for _, l := range leechers {
		waitDone(t, l)
		assertSameFile(t, src, l.cfg.Path)
	}
	if up := seeder.Stats().BytesUploaded; up < meta.Info.Length {
		t.Errorf("the super-seeder uploaded %d bytes, less than one copy (%d)", up, meta.Info.Length)
	}
}
