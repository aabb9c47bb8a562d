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
func referenceScenario(seed uint64) Scenario {
	peers := Swarm(1, 50, 4*mib)
	peers[0].SuperSeed, peers[0].MaxPeers = true, 60
	for i := 1; i < len(peers); i++ {
		peers[i].JoinAt, peers[i].MaxBufferedBytes = 10*time.Millisecond, 8*mib
	}
	return Scenario{
		Seed: seed, FileSize: 64 * mib, PieceSize: 256 * kib, Peers: peers, Latency: 100 * time.Microsecond,
		DialSeeders: true, AnnounceInterval: time.Second,
	}
}

// referenceVariants are the lab's variants of the reference (bench/scenarios.go's reference)
// and one of the simulator's own: the tracker's default 30 s interval with no address given
// (a peer keeps the NumWant = 5 peers of its first announce, and those that dial it, for 30 s).
func referenceVariants(seed uint64) map[string]Scenario {
	plain := referenceScenario(seed)
	plain.Peers[0].SuperSeed = false
	scaled := referenceScenario(seed)
	scaled.FileSize, scaled.PieceSize = 16*mib, 64*kib
	for i := range scaled.Peers {
		scaled.Peers[i].Upload = 1 * mib
	}
	tracker := referenceScenario(seed)
	tracker.DialSeeders, tracker.AnnounceInterval = false, 0
	return map[string]Scenario{"reference": referenceScenario(seed), "plain-seeder": plain, "scaled-1mib": scaled, "tracker-30s": tracker}
}

// TestReferenceScenario runs the lab's reference swarm and its variants and logs makespan / T*
// and the lab's other figures. It takes about 10 s without -race and minutes with it, so it runs
// only with MINIBIT_SIM_REFERENCE=1 (docs/benchmarks.md, "Simulator vs lab"):
//
//	MINIBIT_SIM_REFERENCE=1 go test -run Reference -v ./internal/peer/sim/
func TestReferenceScenario(t *testing.T) {
	if os.Getenv("MINIBIT_SIM_REFERENCE") == "" {
		t.Skip("set MINIBIT_SIM_REFERENCE=1 to run the lab's reference scenario in the simulator")
	}
	for _, name := range []string{"reference", "plain-seeder", "scaled-1mib", "tracker-30s"} {
		for seed := uint64(1); seed <= 3; seed++ {
			sc := referenceVariants(seed)[name]
			r := run(t, sc)
			if r.Completed != r.Leechers {
				t.Errorf("%s seed %d: %d of %d leechers finished", name, seed, r.Completed, r.Leechers)
			}
			var done []time.Duration
			for _, p := range r.Peers {
				if p.Role == Leecher {
					done = append(done, p.Completed)
				}
			}
			med := Median(done)
			t.Logf("%s seed %d: makespan %.2f s, T* %.2f s, makespan/T* %.3f, median %.2f s, tail %.3f, seeder up %.3f F (%.3f F when every piece existed), dup %.4f",
				name, seed, r.Makespan.Seconds(), r.TStar.Seconds(), r.MakespanOverTStar, med.Seconds(), r.Makespan.Seconds()/med.Seconds(),
				r.SeederUploadOverF, float64(r.SeederUploadAtAllPieces)/float64(sc.FileSize), r.DuplicateRatio)
		}
	}
}
