package core

import (
	"testing"
	"time"
)

func TestLatencyIsTheSmallestSampleOfTheLastTwoWindows(t *testing.T) {
	start := time.Unix(1000, 0)
	var l latencyMin
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	if l.get() != 0 {
		t.Fatal("a latency before any sample")
	}
	l.add(at(0), 300*time.Millisecond)
	l.add(at(1), 500*time.Millisecond) // queued behind others: the smaller sample stands
	if got := l.get(); got != 300*time.Millisecond {
		t.Fatalf("latency %v, want 300ms", got)
	}
	l.add(at(11), 800*time.Millisecond) // a new window: the last one's minimum still counts
	if got := l.get(); got != 300*time.Millisecond {
		t.Fatalf("latency %v one window later, want 300ms", got)
	}
	l.add(at(22), 800*time.Millisecond) // two windows later the peer is slower: it shows
	if got := l.get(); got != 800*time.Millisecond {
		t.Fatalf("latency %v two windows later, want 800ms", got)
	}
	l.add(at(60), 50*time.Millisecond) // after a silence longer than two windows
	if got := l.get(); got != 50*time.Millisecond {
		t.Fatalf("latency %v after a silence, want 50ms", got)
	}
}
