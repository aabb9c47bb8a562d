package hostile_test

import (
	"context"
	"testing"
	"time"
)

// The corrupt-peer tests: a peer that sends bad blocks is banned once proven, and only it; the
// download completes with the right bytes.

// completeBound is the wide bound on a download of these tests' files (a clean run takes well
// under a second): what is asserted is completion, not speed.
const completeBound = 30 * time.Second

// TestCorruptSeederNextToHonestSeeder: a seeder that serves random bytes for every block, next
// to an honest uncapped seeder, both announced to the tracker. The leecher completes, only the
// corrupt seeder is banned. Ten runs: which seeder answers first is a race.
func TestCorruptSeederNextToHonestSeeder(t *testing.T) {
	RequireLoopback(t, IP(2))
	const runs = 10
	var clean, corrupt time.Duration
	for run := range runs {
		sw := NewSwarm(t, uint64(100+run), 8<<20, 256<<10)
		seeder := sw.StartSeeder(IP(1))
		ref := sw.StartLeecher(IP(1))
		clean += ref.WaitDone(t, completeBound)
		ref.Stop()

		bad := sw.StartHostile(HostileConfig{IP: IP(2), Block: Random()})
		if err := bad.Announce(context.Background()); err != nil {
			t.Fatal(err)
		}
		l := sw.StartLeecher(IP(1))
		d := l.WaitDone(t, completeBound)
		corrupt += d
		sw.AssertFile(t, l)
		st := l.Stats()
		t.Logf("run %d: clean %v, with the corrupt seeder %v; its blocks sent %d, hash failures %d, bans %d",
			run, ref.Stats().TimeToComplete, d, bad.Blocks.Load(), st.HashFailures, st.Bans)
		if l.Banned(IP(1), seeder.PeerID()) {
			t.Fatalf("run %d: the honest seeder is banned", run)
		}
		if st.HashFailures > 0 && !l.Banned(IP(2), bad.ID()) {
			t.Fatalf("run %d: %d pieces failed and the corrupt seeder is not banned", run, st.HashFailures)
		}
		if st.Bans > 1 {
			t.Fatalf("run %d: %d bans, want at most the corrupt seeder", run, st.Bans)
		}
	}
	t.Logf("mean over %d runs: clean %v, with a corrupt seeder %v", runs, clean/runs, corrupt/runs)
}
