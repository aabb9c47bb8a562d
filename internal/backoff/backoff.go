// Package backoff is the design note's retry policy: exponential backoff with jitter. An
// operation is tried up to Policy.Attempts times (the note: 3), waiting 1 s, 2 s, 4 s ... between
// tries, each wait capped at Policy.Max and spread by Policy.Jitter so that many peers that failed
// together do not retry together.
package backoff

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"time"
)

// Policy says how often and how patiently an operation is retried.
type Policy struct {
	// Initial is the wait after the first failed attempt.
	Initial time.Duration
	// Max caps every wait.
	Max time.Duration
	// Multiplier grows the wait after each failure (2 doubles it).
	Multiplier float64
	// Attempts is the total number of tries, the first one included; values below 1 mean 1.
	Attempts int
	// Jitter spreads each wait uniformly by ± this fraction (0.2 is ±20 %); 0 waits exactly.
	Jitter float64
}

// Default is the design note's policy: 3 attempts, waiting about 1 s then 2 s (a fourth attempt
// would wait 4 s), capped at 30 s, ±20 % jitter.
var Default = Policy{Initial: time.Second, Max: 30 * time.Second, Multiplier: 2, Attempts: 3, Jitter: 0.2}

// Delay is the wait after failed attempt number attempt (0-based): Initial × Multiplier^attempt,
// capped at Max, then jittered (and capped at Max again).
func (p Policy) Delay(attempt int) time.Duration { return p.DelayRand(attempt, nil) }

// DelayRand is Delay with the jitter drawn from r (nil: the global source), for callers whose
// random choices must be reproducible from a seed.
func (p Policy) DelayRand(attempt int, r *rand.Rand) time.Duration {
	if attempt < 0 {
		attempt = 0
	}
	d := float64(p.Initial) * math.Pow(math.Max(p.Multiplier, 1), float64(attempt))
	if p.Max > 0 {
		d = math.Min(d, float64(p.Max))
	}
	if p.Jitter > 0 {
		u := rand.Float64
		if r != nil {
			u = r.Float64
		}
		d *= 1 + p.Jitter*(2*u()-1)
	}
	if p.Max > 0 {
		d = math.Min(d, float64(p.Max))
	}
	if d <= 0 || math.IsNaN(d) {
		return 0
	}
	return time.Duration(d)
}

// permanentError marks an error that no retry can fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that Retry returns it at once instead of trying again. It returns nil
// for a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// Retry calls op until it succeeds, returns a Permanent error, has been tried p.Attempts times,
// or ctx ends, waiting p.Delay(i) after failed attempt i. It returns nil on success, otherwise the
// last error of op (unwrapped from Permanent) or, when ctx ended first, an error wrapping both.
func Retry(ctx context.Context, p Policy, op func(context.Context) error) error {
	attempts := max(p.Attempts, 1)
	var err error
	for attempt := range attempts {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return errors.Join(ctxErr, err)
		}
		err = op(ctx)
		if err == nil {
			return nil
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			return perm.err
		}
		if attempt == attempts-1 {
			break
		}
		if waitErr := sleep(ctx, p.Delay(attempt)); waitErr != nil {
			return errors.Join(waitErr, err)
		}
	}
	return err
}

// sleep waits d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
