package sim

import (
	"testing"
	"time"
)

// corruptSwarm is an honest seeder, 12 honest leechers and a corrupt peer (the last) that
// spoils every other piece it sends: a seeder, or a leecher (which downloads good pieces and
// passes them on spoiled, among honest uploaders). 2 MiB in 256 KiB pieces (16 blocks, so
// that a piece may have several senders), every piece hashed.
func corruptSwarm(seed uint64, role Role) Scenario {
	bad := PeerSpec{Role: role, Upload: 2 * mib, CorruptEvery: 2}
	return hashed(seed, append(Swarm(1, 12, 512*kib), bad), 2*mib, 256*kib)
}

// hashed is a scenario of peers sharing size bytes in pieces of pieceSize, every piece hashed,
// re-announcing every second, 1 ms apart.
func hashed(seed uint64, peers []PeerSpec, size, pieceSize int64) Scenario {
	return Scenario{
		Seed: seed, FileSize: size, PieceSize: pieceSize, Peers: peers, Latency: time.Millisecond,
		Verify: true, CheckInvariants: true, AnnounceInterval: time.Second,
	}
}

// TestCorruptPeerIsBannedAndNoHonestOne: the corrupt peer is banned by every leecher that had
// a piece fail, nobody bans an honest peer, and every leecher finishes with the true content,
// over several seeds. (A corrupt leecher that nobody downloaded a spoiled piece from is not
// banned: the bans are counted over the runs.)
func TestCorruptPeerIsBannedAndNoHonestOne(t *testing.T) {
	t.Parallel()
	runsWithBans := 0
	for seed := uint64(1); seed <= 8; seed++ {
		sc := corruptSwarm(seed, Role(seed%2))
		bad := len(sc.Peers) - 1
		r := run(t, sc)
		if r.Completed != r.Leechers {
			t.Fatalf("seed %d: %d of %d leechers finished", seed, r.Completed, r.Leechers)
		}
		bannedBy := map[int]bool{}
		for _, b := range r.Bans {
			if b.Peer != bad {
				t.Errorf("seed %d: peer %d banned honest peer %d (%s)", seed, b.By, b.Peer, b.Reason)
			}
			bannedBy[b.By] = true
		}
		runsWithBans += min(len(bannedBy), 1)
		for i, p := range r.Peers {
			if p.WrongPieces > 0 {
				t.Errorf("seed %d: peer %d kept %d wrong pieces", seed, i, p.WrongPieces)
			}
			if p.HashFailures > 0 && !bannedBy[i] {
				t.Errorf("seed %d: peer %d had %d pieces fail and did not ban the corrupt peer", seed, i, p.HashFailures)
			}
		}
		reasons := map[string]int{}
		for _, b := range r.Bans {
			reasons[b.Reason]++
		}
		t.Logf("seed %d, corrupt %s: %d hash failures, %d suspect pieces verified with their leaves, bans by %d leechers: %v",
			seed, sc.Peers[bad].Role, r.HashFailures, r.SuspectPieces, len(bannedBy), reasons)
	}
	if runsWithBans < 4 {
		t.Errorf("the corrupt peer was banned in %d of 8 runs", runsWithBans)
	}
}
