package peer

import (
	"testing"
)

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
