package peer

import (
	"testing"
	"time"
)

func TestRequestDepthFollowsRate(t *testing.T) {
	p := pipelineConfig{QueueTime: 3 * time.Second, MinDepth: 4, MaxDepth: 256}
	for _, tc := range []struct {
		rate    float64
		snubbed bool
		want    int
	}{
		{rate: 0, want: 4},           // new connection: the minimum
		{rate: 16 << 10, want: 4},    // 3 blocks of rate: still the minimum
		{rate: 1 << 20, want: 192},   // 1 MiB/s x 3 s / 16 KiB
		{rate: 100 << 20, want: 256}, // capped
		{rate: 100 << 20, snubbed: true, want: 1},
	} {
		if got := p.requestDepth(tc.rate, tc.snubbed); got != tc.want {
			t.Errorf("requestDepth(%v, snubbed %v) = %d, want %d", tc.rate, tc.snubbed, got, tc.want)
		}
	}
}

func TestRateMeterSlidingWindow(t *testing.T) {
	start := time.Unix(1000, 0)
	m := newRateMeter(20*time.Second, start)
	for s := range 40 {
		m.Add(start.Add(time.Duration(s)*time.Second), 1000)
	}
	if got := m.Rate(start.Add(39 * time.Second)); got < 999 || got > 1001 {
		t.Fatalf("rate over a full window = %v, want 1000", got)
	}
	if got := m.Rate(start.Add(49 * time.Second)); got < 499 || got > 501 {
		t.Fatalf("rate half a window later = %v, want 500", got)
	}
	if got := m.Rate(start.Add(60 * time.Second)); got != 0 {
		t.Fatalf("rate after silence = %v, want 0", got)
	}
}

func TestRateLimiterAccuracyInVirtualTime(t *testing.T) {
	const rate = 4 << 20 // bytes/s, a benchmark's emulated link
	lim := newRateLimiter(rate)
	now := time.Unix(0, 0)
	end := now.Add(10 * time.Second)
	sent := int64(0)
	for {
		d := lim.delayAt(now, blockLength)
		if now.Add(d).After(end) {
			break
		}
		now = now.Add(d)
		sent += blockLength
	}
	// Over 10 s of virtual time the sender gets rate x 10 s, plus at most one burst.
	want := int64(rate * 10)
	burst := int64(lim.lim.Burst())
	if sent < want-blockLength || sent > want+burst {
		t.Fatalf("sent %d bytes in 10 s at %d B/s, want %d (+ burst %d)", sent, rate, want, burst)
	}
	if newRateLimiter(0) != nil {
		t.Error("a zero rate should not limit")
	}
}
