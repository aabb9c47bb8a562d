package dashboard

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestHubDropsASlowSubscriberAndKeepsTheOthers(t *testing.T) {
	h := newHub(time.Hour, 10, 2) // the loop renders once; the test publishes the rest
	var renders atomic.Int64
	render := func() []byte { renders.Add(1); return []byte("first") }
	slow, err := h.subscribe("k", render)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := h.subscribe("k", render)
	if err != nil {
		t.Fatal(err)
	}
	waitFrames(t, fast, "first")
	tp := h.topics["k"]
	for i := range 5 {
		h.publish(tp, fmt.Appendf(nil, "frame %d", i))
		waitFrames(t, fast, fmt.Sprintf("frame %d", i))
	}
	// slow read nothing: it holds its buffer's two frames, then was dropped.
	var got []string
	for f := range slow.frames {
		got = append(got, string(f))
	}
	if len(got) != 2 || got[0] != "first" || got[1] != "frame 0" {
		t.Errorf("the slow subscriber got %q before it was dropped, want its buffer's two frames", got)
	}
	if n := h.subscribers(); n != 1 {
		t.Errorf("%d subscribers after the drop, want 1", n)
	}
	h.unsubscribe("k", slow) // the handler's deferred call: harmless after a drop
	h.unsubscribe("k", fast)
	if len(h.topics) != 0 || h.subscribers() != 0 {
		t.Errorf("topics %v, %d subscribers after everyone left", h.topics, h.subscribers())
	}
}

func TestHubSkipsIdenticalFramesAndGivesNewcomersTheLast(t *testing.T) {
	h := newHub(time.Hour, 10, 4)
	a, err := h.subscribe("k", func() []byte { return []byte("same") })
	if err != nil {
		t.Fatal(err)
	}
	waitFrames(t, a, "same")
	tp := h.topics["k"]
	h.publish(tp, []byte("same"))
	h.publish(tp, []byte("same"))
	if n := len(a.frames); n != 0 {
		t.Errorf("%d frames queued after identical publishes, want 0", n)
	}
	b, err := h.subscribe("k", nil) // the topic runs already: render is not needed
	if err != nil {
		t.Fatal(err)
	}
	waitFrames(t, b, "same")
}

func TestHubBoundsSubscribers(t *testing.T) {
	h := newHub(time.Hour, 1, 1)
	s, err := h.subscribe("a", func() []byte { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.subscribe("b", func() []byte { return nil }); !errors.Is(err, errTooManySubscribers) {
		t.Fatalf("second subscriber: %v, want errTooManySubscribers", err)
	}
	h.unsubscribe("a", s)
	if _, err := h.subscribe("b", func() []byte { return nil }); err != nil {
		t.Fatalf("after a leave: %v", err)
	}
}

// waitFrames reads one frame from s and checks it.
func waitFrames(t *testing.T, s *subscriber, want string) {
	t.Helper()
	select {
	case f, ok := <-s.frames:
		if !ok || string(f) != want {
			t.Fatalf("frame %q (open %v), want %q", f, ok, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no frame, want %q", want)
	}
}
