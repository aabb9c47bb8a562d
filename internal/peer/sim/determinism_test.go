package sim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSameSeedSameRun(t *testing.T) {
	sc := small(7)
	first, second := run(t, sc), run(t, sc)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("two runs of seed 7 differ (-first +second):\n%s", diff)
	}
}

func TestOtherSeedOtherSchedule(t *testing.T) {
	a, b := run(t, small(7)), run(t, small(8))
	if a.Fingerprint == b.Fingerprint {
		t.Errorf("seeds 7 and 8 ran the same schedule (fingerprint %x)", a.Fingerprint)
	}
}
