package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDelaySequenceWithoutJitter(t *testing.T) {
	p := Policy{Initial: time.Second, Max: 30 * time.Second, Multiplier: 2, Attempts: 3}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 30 * time.Second, 30 * time.Second}
	for attempt, w := range want {
		if got := p.Delay(attempt); got != w {
			t.Errorf("Delay(%d) = %v, want %v", attempt, got, w)
		}
	}
}

func TestDefaultIsTheNotesPolicy(t *testing.T) {
	if Default.Attempts != 3 || Default.Initial != time.Second || Default.Multiplier != 2 {
		t.Fatalf("Default = %+v, want 3 attempts from 1 s doubling", Default)
	}
	for attempt, base := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		lo, hi := time.Duration(float64(base)*0.8), time.Duration(float64(base)*1.2)
		for range 100 {
			if d := Default.Delay(attempt); d < lo || d > hi {
				t.Fatalf("Default.Delay(%d) = %v, want within [%v, %v]", attempt, d, lo, hi)
			}
		}
	}
}

func TestDelayJitterIsCappedAndSpread(t *testing.T) {
	p := Policy{Initial: 10 * time.Second, Max: 10 * time.Second, Multiplier: 2, Jitter: 0.5}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := p.Delay(3)
		if d > p.Max || d < 5*time.Second {
			t.Fatalf("Delay = %v, want within [5s, Max=10s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("jitter produced only %d distinct delays in 200 draws", len(seen))
	}
}

func TestRetryStopsOnSuccess(t *testing.T) {
	calls := 0
	err := Retry(context.Background(), fast(5), func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("Retry = %v after %d calls, want nil after 3", err, calls)
	}
}

func TestRetryGivesUpAfterAttempts(t *testing.T) {
	calls := 0
	boom := errors.New("boom")
	err := Retry(context.Background(), fast(3), func(context.Context) error {
		calls++
		return boom
	})
	if !errors.Is(err, boom) || calls != 3 {
		t.Fatalf("Retry = %v after %d calls, want boom after 3", err, calls)
	}
}

func TestRetryStopsAtOnceOnPermanent(t *testing.T) {
	calls := 0
	boom := errors.New("bad request")
	err := Retry(context.Background(), fast(5), func(context.Context) error {
		calls++
		return Permanent(boom)
	})
	var wrapped *permanentError
	if !errors.Is(err, boom) || errors.As(err, &wrapped) || calls != 1 {
		t.Fatalf("Retry = %v after %d calls, want the unwrapped permanent error after 1", err, calls)
	}
	if Permanent(nil) != nil {
		t.Fatal("Permanent(nil) != nil")
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := Policy{Initial: time.Hour, Max: time.Hour, Multiplier: 2, Attempts: 3}
	calls := 0
	boom := errors.New("boom")
	done := make(chan error, 1)
	go func() {
		done <- Retry(ctx, p, func(context.Context) error {
			calls++
			cancel() // the wait that follows must end now, not in an hour
			return boom
		})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !errors.Is(err, boom) || calls != 1 {
			t.Fatalf("Retry = %v after %d calls, want Canceled and boom after 1", err, calls)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Retry did not return after its context was cancelled")
	}
}

func TestRetryDoesNotStartWithEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Retry(ctx, fast(3), func(context.Context) error {
		t.Fatal("op called with an ended context")
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Retry = %v, want Canceled", err)
	}
}

// fast is a policy with millisecond waits so that tests run quickly.
func fast(attempts int) Policy {
	return Policy{Initial: time.Millisecond, Max: 4 * time.Millisecond, Multiplier: 2, Attempts: attempts}
}
