package sim

import (
	"testing"
	"time"
)

const (
	kib = 1 << 10
	mib = 1 << 20
)

// small is the 50-peer 256-piece swarm: 4 MiB in 16 KiB pieces, one seeder, 1 MiB/s caps,
// every piece declared good (no hashing).
func small(seed uint64) Scenario {
	return Scenario{
		Seed: seed, FileSize: 4 * mib, PieceSize: 16 * kib, Peers: Swarm(1, 50, 1*mib),
		Latency: time.Millisecond, CheckInvariants: true,
	}
}

// run runs sc and fails the test on an error, an unfinished leecher or a protocol error.
func run(t *testing.T, sc Scenario) Result {
	t.Helper()
	start := time.Now()
	r, err := Run(sc)
	if err != nil {
		t.Fatalf("seed %d: %v", sc.Seed, err)
	}
	t.Logf("seed %d: %d events in %v wall: makespan %v, T* %v (%.3f), completed %d/%d, seeder up %.2f F",
		sc.Seed, r.Events, time.Since(start).Round(time.Millisecond), r.Makespan.Round(time.Millisecond),
		r.TStar.Round(time.Millisecond), r.MakespanOverTStar, r.Completed, r.Leechers, r.SeederUploadOverF)
	if len(r.ProtocolErrors) > 0 {
		t.Errorf("seed %d: protocol errors: %q", sc.Seed, r.ProtocolErrors)
	}
	return r
}

// TestSwarmOf50PeersAnd256Pieces: the 50-peer 256-piece swarm finishes, no sooner than
// its lower bound; the log gives the wall time (about half a second with the invariants checked
// after every event; BenchmarkSwarmOf50PeersAnd256Pieces measures it without them).
func TestSwarmOf50PeersAnd256Pieces(t *testing.T) {
	t.Parallel()
	r := run(t, small(1))
	if r.Completed != r.Leechers || r.TimedOut {
		t.Fatalf("%d of %d leechers finished (timed out: %v)", r.Completed, r.Leechers, r.TimedOut)
	}
	if r.Makespan < r.TStar {
		t.Errorf("makespan %v under the lower bound %v", r.Makespan, r.TStar)
	}
}

// BenchmarkSwarmOf50PeersAnd256Pieces is the 50-peer 256-piece swarm without the invariant
// checks: the simulator's own speed.
func BenchmarkSwarmOf50PeersAnd256Pieces(b *testing.B) {
	sc := small(1)
	sc.CheckInvariants = false
	for b.Loop() {
		if _, err := Run(sc); err != nil {
			b.Fatal(err)
		}
	}
}
