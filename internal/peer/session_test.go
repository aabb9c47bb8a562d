package peer

import (
	"path/filepath"
	"testing"
)

func TestSwarmSeederAndTenLeechers(t *testing.T) {
	src, meta := testTorrent(t, 4<<20+12345, 32<<10)
	tr := startTracker(t)
	seeder := startSeeder(t, meta, src, tr.url())
	leechers := make([]*running, 10)
	for i := range leechers {
		leechers[i] = startSession(t, leecherConfig(t, meta, t.TempDir(), tr.url(), seeder.Addr()))
	}
	for i, l := range leechers {
		waitDone(t, l)
		assertSameFile(t, src, filepath.Join(filepath.Dir(l.cfg.Path), meta.Info.Name))
		if st := l.Stats(); !st.Complete || st.PiecesHave != meta.NumPieces() ||
			st.TimeToVerify <= 0 || st.TimeToVerify > st.TimeToComplete {
			t.Errorf("leecher %d: stats %+v (want complete, verified before completion)", i, st)
		}
	}
	if st := seeder.Stats(); st.TimeToVerify != 0 || st.TimeToComplete != 0 {
		t.Errorf("a seeder that started complete reports times to verify %v and complete %v, want 0", st.TimeToVerify, st.TimeToComplete)
	}
	if up := seeder.Stats().BytesUploaded; up < meta.Info.Length {
		t.Errorf("seeder uploaded %d bytes, less than one copy (%d)", up, meta.Info.Length)
	}
}

func TestLeecherResumesAfterRestart(t *testing.T) {
	src, meta := testTorrent(t, 4<<20, 32<<10)
	seedCfg := testConfig(t, meta, src)
	seedCfg.Seed, seedCfg.Trusted = true, true
	seedCfg.UploadRate = 4 << 20 // slow enough to stop the leecher half-way
	seeder := startSession(t, seedCfg)
	dir := t.TempDir()

	first := startSession(t, leecherConfig(t, meta, dir, "", seeder.Addr()))
	half := meta.NumPieces() / 2
	waitFor(t, "half the pieces", func() bool { return first.Stats().PiecesHave >= half })
	if err := first.stop(t); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if fileExists(filepath.Join(dir, meta.Info.Name)) {
		t.Fatal("an incomplete download is under its final name")
	}

	second, err := New(leecherConfig(t, meta, dir, "", seeder.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	resumed := second.Stats().PiecesHave
	if resumed < half {
		t.Fatalf("resumed with %d pieces, had at least %d", resumed, half)
	}
	r := runSession(t, second)
	waitDone(t, r)
	assertSameFile(t, src, filepath.Join(dir, meta.Info.Name))
	if got := r.Stats().BytesDownloaded; got >= meta.Info.Length {
		t.Errorf("second run downloaded %d bytes, the whole file is %d", got, meta.Info.Length)
	}
}

func TestSwarmSurvivesLeechersLeaving(t *testing.T) {
	src, meta := testTorrent(t, 4<<20, 32<<10)
	tr := startTracker(t)
	seedCfg := testConfig(t, meta, src)
	seedCfg.Seed, seedCfg.Trusted = true, true
	seedCfg.TrackerURL = tr.url()
	seedCfg.UploadRate = 8 << 20
	seeder := startSession(t, seedCfg)
	leechers := make([]*running, 9)
	for i := range leechers {
		leechers[i] = startSession(t, leecherConfig(t, meta, t.TempDir(), tr.url(), seeder.Addr()))
	}
	leaving, staying := leechers[:3], leechers[3:]
	for _, l := range leaving {
		waitFor(t, "a first piece", func() bool { return l.Stats().PiecesHave > 0 })
		if err := l.stop(t); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range staying {
		waitDone(t, l)
		assertSameFile(t, src, l.cfg.Path)
	}
}

func TestSwarmSurvivesTrackerRestart(t *testing.T) {
	src, meta := testTorrent(t, 4<<20, 32<<10)
	tr := startTracker(t)
	seedCfg := testConfig(t, meta, src)
	seedCfg.Seed, seedCfg.Trusted = true, true
	seedCfg.TrackerURL = tr.url()
	seedCfg.UploadRate = 4 << 20
	startSession(t, seedCfg)
	// The leechers know the swarm only through the tracker.
	early := []*running{
		startSession(t, leecherConfig(t, meta, t.TempDir(), tr.url())),
		startSession(t, leecherConfig(t, meta, t.TempDir(), tr.url())),
	}
	waitFor(t, "a first piece", func() bool { return early[0].Stats().PiecesHave > 0 })
	tr.shutdown()
	tr.restart() // same port, empty registry: the peers' heartbeats fill it again
	late := startSession(t, leecherConfig(t, meta, t.TempDir(), tr.url()))
	for _, l := range append(early, late) {
		waitDone(t, l)
		assertSameFile(t, src, l.cfg.Path)
	}
}
