package core

import (
	"testing"
	"time"
)

func TestRequestDepthFollowsRate(t *testing.T) {
	p := pipelineConfig{QueueTime: 3 * time.Second, MinDepth: 4, MaxDepth: 256}
	for _, tc := range []struct {
		rate    float64
		latency time.Duration
		snubbed bool
		want    int
	}{
		{rate: 0, want: 4},           // new connection: the minimum
		{rate: 16 << 10, want: 4},    // 3 blocks of rate: still the minimum
		{rate: 1 << 20, want: 192},   // 1 MiB/s x 3 s / 16 KiB
		{rate: 20 << 10, want: 4},    // 3.75 blocks, rounded up: the minimum
		{rate: 100 << 20, want: 256}, // capped
		{rate: 100 << 20, snubbed: true, want: 1},
	} {
		if got := p.requestDepth(tc.rate, tc.latency, tc.snubbed); got != tc.want {
			t.Errorf("requestDepth(%v, %v, snubbed %v) = %d, want %d", tc.rate, tc.latency, tc.snubbed, got, tc.want)
		}
	}
}

func TestRequestDepthCoversALongLatency(t *testing.T) {
	p := pipelineConfig{QueueTime: 100 * time.Millisecond, MinDepth: 4, MaxDepth: 256}
	for _, tc := range []struct {
		rate    float64
		latency time.Duration
		want    int
	}{
		{rate: 128 << 10, want: 4},                                   // 0.8 blocks: the minimum
		{rate: 1 << 20, latency: 50 * time.Millisecond, want: 7},     // within the queue time: 6.4 blocks, rounded up
		{rate: 128 << 10, latency: 450 * time.Millisecond, want: 12}, // Transmission's pace: (0.1 + 4 x 0.35) s x 128 KiB/s
		{rate: 4 << 20, latency: 2 * time.Second, want: 256},         // capped
	} {
		if got := p.requestDepth(tc.rate, tc.latency, false); got != tc.want {
			t.Errorf("requestDepth(%v, %v) = %d, want %d", tc.rate, tc.latency, got, tc.want)
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
