package peertest

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fake is a session that completes when told and fails when told.
type fake struct {
	done chan struct{}
	fail chan error
}

func newFake() *fake { return &fake{done: make(chan struct{}), fail: make(chan error, 1)} }

func (f *fake) Done() <-chan struct{} { return f.done }

func (f *fake) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-f.fail:
		return err
	}
}

func TestStopReturnsRunsResultEachTime(t *testing.T) {
	r := Run(t, newFake())
	for range 2 {
		if err := r.Stop(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Stop = %v, want the cancellation Run returned", err)
		}
	}
}

func TestWaitReportsAFailure(t *testing.T) {
	f := newFake()
	r := Run(t, f)
	if _, ended := r.Wait(10 * time.Millisecond); ended {
		t.Fatal("Wait says a running session ended")
	}
	boom := errors.New("disk full")
	f.fail <- boom
	if err, ended := r.Wait(time.Minute); !ended || !errors.Is(err, boom) {
		t.Fatalf("Wait = %v, %v; want the session's error", err, ended)
	}
}

func TestWaitDoneReturnsOnceDone(t *testing.T) {
	f := newFake()
	r := Run(t, f)
	close(f.done)
	if d := r.WaitDone(t, time.Minute, nil); d < 0 {
		t.Fatalf("WaitDone = %v", d)
	}
}
