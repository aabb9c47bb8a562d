package peer

import (
	"testing"
)

// BenchmarkSwarm measures a local swarm: one seeder and 8 leechers of a 256 MiB file over
// loopback, 256 KiB pieces (the note's). It reports the aggregate delivery rate (bytes received
// by all leechers per second). Run it with -bench Swarm -benchtime 1x.
func BenchmarkSwarm(b *testing.B) {
	const size, leechers = 256 << 20, 8
	src, meta := testTorrent(b, size, 256<<10)
	for b.Loop() {
		tr := startTracker(b)
		seeder := startSeeder(b, meta, src, tr.url())
		rs := make([]*running, leechers)
		for i := range rs {
			cfg := leecherConfig(b, meta, b.TempDir(), tr.url(), seeder.Addr())
			cfg.ChokeInterval = DefaultChokeInterval
			rs[i] = startSession(b, cfg)
		}
		for _, r := range rs {
			waitDone(b, r)
		}
		b.StopTimer()
		for _, r := range rs {
			_ = r.stop(b)
		}
		_ = seeder.stop(b)
		tr.shutdown()
		b.StartTimer()
	}
	b.SetBytes(size * leechers)
}
