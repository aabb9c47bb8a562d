package peer

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// minLimiterBurst is the smallest token bucket: one block message (16 KiB of payload plus its
// 13-byte header) must fit in one wait. The burst is otherwise a tenth of a second of traffic, so
// a capped link stays close to its rate over any short window.
const minLimiterBurst = 32 << 10

// rateLimiter caps a byte stream (this peer's total upload, or total download) at a rate in
// bytes per second with a small token bucket. A nil *rateLimiter does not limit.
// Owner: the embedded rate.Limiter is safe for concurrent use by every connection.
type rateLimiter struct {
	lim *rate.Limiter
}

// newRateLimiter returns a limiter of bytesPerSecond, or nil (no limit) when it is 0 or less.
func newRateLimiter(bytesPerSecond int64) *rateLimiter {
	if bytesPerSecond <= 0 {
		return nil
	}
	burst := max(int(bytesPerSecond/10), minLimiterBurst)
	return &rateLimiter{lim: rate.NewLimiter(rate.Limit(bytesPerSecond), burst)}
}

// WaitN blocks until n bytes may pass, or ctx ends. Counts larger than the burst are taken in
// burst-sized parts.
func (r *rateLimiter) WaitN(ctx context.Context, n int) error {
	if r == nil {
		return nil
	}
	for n > 0 {
		part := min(n, r.lim.Burst())
		if err := r.lim.WaitN(ctx, part); err != nil {
			return err
		}
		n -= part
	}
	return nil
}

// delayAt reserves n bytes at the virtual instant now and returns how long the sender must wait
// before sending them: WaitN's arithmetic without the clock, for tests in virtual time.
func (r *rateLimiter) delayAt(now time.Time, n int) time.Duration {
	if r == nil {
		return 0
	}
	var total time.Duration
	for n > 0 {
		part := min(n, r.lim.Burst())
		total += r.lim.ReserveN(now.Add(total), part).DelayFrom(now.Add(total))
		n -= part
	}
	return total
}
