package sim

import (
	"os"
	"testing"
	"time"
)

// referenceScenario is the lab's reference swarm (bench/scenarios.go's referenceSpec): 50
// leechers and a super-seeding seeder, 64 MiB in 256 KiB pieces, every upload capped at
// 4 MiB/s; shaped as the lab runs it (bench/run.go, bench/swarm.go): the seeder starts first
// and takes N + 10 connections, every leecher dials it and re-announces every second (the
// lab tracker's interval), and keeps 8 MiB of partial pieces.
func referenceScenario(seed uint64, superSeed bool) Scenario {
	peers := Swarm(1, 50, 4*mib)
	peers[0].SuperSeed, peers[0].MaxPeers = superSeed, 60
	for i := 1; i < len(peers); i++ {
		peers[i].JoinAt, peers[i].MaxBufferedBytes = 10*time.Millisecond, 8*mib
	}
	return Scenario{
		Seed: seed, FileSize: 64 * mib, PieceSize: 256 * kib, Peers: peers, Latency: 100 * time.Microsecond,
		DialSeeders: true, AnnounceInterval: time.Second,
	}
}

// TestReferenceScenario runs the lab's reference swarm (and its plain-seeder variant) and logs
// makespan / T*. It takes seconds without -race and much longer with it, so it runs only with
// MINIBIT_SIM_REFERENCE=1 (docs/benchmarks.md, "Simulator vs lab").
func TestReferenceScenario(t *testing.T) {
	if os.Getenv("MINIBIT_SIM_REFERENCE") == "" {
		t.Skip("set MINIBIT_SIM_REFERENCE=1 to run the lab's reference scenario in the simulator")
	}
	for _, superSeed := range []bool{true, false} {
		for seed := uint64(1); seed <= 3; seed++ {
			r := run(t, referenceScenario(seed, superSeed))
			if r.Completed != r.Leechers {
				t.Errorf("super-seed %v seed %d: %d of %d leechers finished", superSeed, seed, r.Completed, r.Leechers)
			}
			var done []time.Duration
			for _, p := range r.Peers {
				if p.Role == Leecher {
					done = append(done, p.Completed)
				}
			}
			t.Logf("super-seed %v seed %d: makespan %.2f s, T* %.2f s, makespan/T* %.3f, median %.2f s, seeder up %.3f F (%.3f F when every piece existed), dup %.4f",
				superSeed, seed, r.Makespan.Seconds(), r.TStar.Seconds(), r.MakespanOverTStar, Median(done).Seconds(),
				r.SeederUploadOverF, float64(r.SeederUploadAtAllPieces)/float64(64*mib), r.DuplicateRatio)
		}
	}
}
