package peer

import (
	"testing"
	"time"
)

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
