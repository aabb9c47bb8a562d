package main

import (
	"testing"
	"time"
)

func TestPacingTakesTheTargetTime(t *testing.T) {
	const target = 30 * time.Second
	for _, c := range []struct {
		size     int64
		leechers int
	}{
		{64 << 20, 8}, {64 << 20, 1}, {64 << 20, 30}, {16 << 20, 200}, {1 << 30, 8}, {256 << 10, 3},
	} {
		p := choosePacing(c.size, c.leechers, target)
		if p.uploadRate < minPaceRate {
			t.Errorf("%d leechers of %d bytes: cap %d below the floor", c.leechers, c.size, p.uploadRate)
		}
		// The cap is rounded up, and the floor may shorten a tiny swarm: never longer than asked.
		if d := target - p.estimate; p.uploadRate > minPaceRate && (d < 0 || d > time.Second) {
			t.Errorf("%d leechers of %d bytes: cap %d B/s takes %v by the model, want %v", c.leechers, c.size, p.uploadRate, p.estimate, target)
		}
		if got := paceTime(c.size, c.leechers, float64(p.uploadRate)); got != p.estimate {
			t.Errorf("estimate %v, the model says %v", p.estimate, got)
		}
	}
}

func TestPacingGrowsWithTheSwarm(t *testing.T) {
	const target = 30 * time.Second
	base := choosePacing(64<<20, 8, target).uploadRate
	if bigger := choosePacing(128<<20, 8, target).uploadRate; bigger < 2*base-1 {
		t.Errorf("twice the bytes: cap %d, want about twice %d", bigger, base)
	}
	if more := choosePacing(64<<20, 30, target).uploadRate; more <= base {
		t.Errorf("more leechers need more of each peer: cap %d, want above %d", more, base)
	}
	if slower := choosePacing(64<<20, 8, 60*time.Second).uploadRate; slower >= base {
		t.Errorf("a minute: cap %d, want below %d", slower, base)
	}
	// A demo measured at another cap (docs/benchmarks.md, "The demo's pacing"), scaled to 30 s,
	// needs about 2.3 MiB/s.
	if got := choosePacing(64<<20, 8, target).uploadRate; got < 2<<20 || got > 2600<<10 {
		t.Errorf("8 leechers of 64 MiB: cap %d B/s, want about 2.3 MiB/s", got)
	}
}

func TestPacingTheSeederBoundsALoneLeecher(t *testing.T) {
	// One leecher gains nothing from trading: the seeder's copy is the whole time.
	p := choosePacing(64<<20, 1, 30*time.Second)
	size := float64(64 << 20)
	want := int64(size / (30 * seederEfficiency))
	if p.uploadRate < want || p.uploadRate > want+1 {
		t.Errorf("cap %d, want size/(target*efficiency) = %d", p.uploadRate, want)
	}
}

func TestPacingShortTargetsAndNonsense(t *testing.T) {
	if p := choosePacing(64<<20, 8, 6*time.Second); p.estimate > 6*time.Second || p.estimate < 5*time.Second {
		t.Errorf("a 6 s target: estimate %v", p.estimate)
	}
	for _, p := range []pacing{choosePacing(0, 8, time.Second), choosePacing(1, 0, time.Second), choosePacing(1, 1, 0)} {
		if p.uploadRate != 0 {
			t.Errorf("nonsense input paced at %d", p.uploadRate)
		}
	}
	if p := choosePacing(1024, 2, 30*time.Second); p.uploadRate != minPaceRate {
		t.Errorf("a 1 KiB file: cap %d, want the floor %d", p.uploadRate, minPaceRate)
	}
}
