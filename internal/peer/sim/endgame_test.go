package sim

import (
	"testing"
	"time"
)

// slowPeerSwarm is 6 leechers, a fast seeder and, when slow is set, a second seeder 64 times
// slower: 2 MiB in 64 KiB pieces.
func slowPeerSwarm(seed uint64, slow bool) Scenario {
	peers := Swarm(1, 6, 1*mib)
	peers[0].Upload = 2 * mib
	if slow {
		peers = append(peers, PeerSpec{Role: Seeder, Upload: 32 * kib})
	}
	return Scenario{
		Seed: seed, FileSize: 2 * mib, PieceSize: 64 * kib, Peers: peers, Latency: time.Millisecond,
		CheckInvariants: true, DialSeeders: true,
	}
}

// TestEndgameIsNotHeldBySlowPeer: blocks asked of a slow seeder are asked again of others at
// the end (and the slow one's requests cancelled), so the swarm finishes about as fast as
// without it.
func TestEndgameIsNotHeldBySlowPeer(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 4; seed++ {
		without := run(t, slowPeerSwarm(seed, false))
		with := run(t, slowPeerSwarm(seed, true))
		slow := with.Peers[len(with.Peers)-1]
		t.Logf("seed %d: makespan %v without the slow seeder, %v with it (it uploaded %d KiB); %d cancels, duplicates %.3f of N F",
			seed, without.Makespan, with.Makespan, slow.Uploaded>>10, with.Cancels, with.DuplicateRatio)
		if with.Completed != with.Leechers {
			t.Fatalf("seed %d: %d of %d leechers finished", seed, with.Completed, with.Leechers)
		}
		if with.Cancels == 0 {
			t.Errorf("seed %d: no cancel sent: the endgame never asked a block twice", seed)
		}
		if limit := without.Makespan * 5 / 4; with.Makespan > limit {
			t.Errorf("seed %d: makespan %v with a slow seeder, over 1.25 x the %v without it", seed, with.Makespan, without.Makespan)
		}
	}
}
