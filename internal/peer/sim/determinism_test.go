package sim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tiny is a 20-peer swarm of 64 pieces with a corrupt leecher among them, every piece hashed:
// the bans' paths too, in a few thousand events.
func tiny(seed uint64) Scenario {
	bad := PeerSpec{Role: Leecher, Upload: 1 * mib, CorruptEvery: 3}
	return hashed(seed, append(Swarm(1, 18, 512*kib), bad), 1*mib, 16*kib)
}

// TestSameSeedSameRun: a scenario run twice gives the same result, to the schedule of events.
// It fails while the core walks its connections in Go's map order (fillAll, ChokeRound's
// candidates, hashPeer, the suspects in checkHashTimeouts ...): the same events then give other
// decisions from run to run, against Config.Seed's promise.
func TestSameSeedSameRun(t *testing.T) {
	t.Parallel()
	sc := tiny(7)
	first, second := run(t, sc), run(t, sc)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("two runs of seed 7 differ (-first +second):\n%s", diff)
	}
}

// TestOtherSeedOtherSchedule: another seed gives another schedule.
func TestOtherSeedOtherSchedule(t *testing.T) {
	t.Parallel()
	a, b := run(t, tiny(7)), run(t, tiny(8))
	if a.Fingerprint == b.Fingerprint {
		t.Errorf("seeds 7 and 8 ran the same schedule (fingerprint %x)", a.Fingerprint)
	}
}
