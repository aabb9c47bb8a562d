package sim

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// scaleScenario is the lab's scale scenario (bench/scenarios.go's scaleSpec) with n leechers:
// 1 MiB in 16 KiB pieces (one block each), every upload capped at 24 KiB/s, a super-seeding
// seeder that takes every leecher, 12 connections per leecher, re-announcing every second.
func scaleScenario(seed uint64, n int) Scenario {
	peers := Swarm(1, n, 24*kib)
	peers[0].SuperSeed, peers[0].MaxPeers = true, n+10
	for i := 1; i < len(peers); i++ {
		peers[i].JoinAt, peers[i].MaxPeers = 10*time.Millisecond, 12
	}
	return Scenario{
		Seed: seed, FileSize: 1 * mib, PieceSize: 16 * kib, Peers: peers, Latency: 100 * time.Microsecond,
		DialSeeders: true, AnnounceInterval: time.Second,
	}
}

// TestScaleScenario runs the lab's scale scenario in the simulator, without the machine's CPU
// in the way, and logs makespan / T* and the seeder's copies. N = 125 takes about a second; it
// runs only with MINIBIT_SIM_SCALE set to the number of leechers (docs/benchmarks.md, "Scale"):
//
//	MINIBIT_SIM_SCALE=125 go test -count=1 -run Scale -v ./internal/peer/sim/
func TestScaleScenario(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("MINIBIT_SIM_SCALE"))
	if err != nil || n < 1 {
		t.Skip("set MINIBIT_SIM_SCALE to the number of leechers to run the lab's scale scenario in the simulator")
	}
	for seed := uint64(1); seed <= 3; seed++ {
		sc := scaleScenario(seed, n)
		r := run(t, sc)
		if r.Completed != r.Leechers {
			t.Errorf("seed %d: %d of %d leechers finished", seed, r.Completed, r.Leechers)
		}
		t.Logf("N %d seed %d: makespan %.2f s, T* %.2f s, makespan/T* %.3f, seeder up %.3f F (%.3f F when every piece existed, at %.2f s)",
			n, seed, r.Makespan.Seconds(), r.TStar.Seconds(), r.MakespanOverTStar,
			r.SeederUploadOverF, float64(r.SeederUploadAtAllPieces)/float64(sc.FileSize), r.AllPiecesAt.Seconds())
	}
}
