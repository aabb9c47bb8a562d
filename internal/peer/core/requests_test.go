package core

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

func TestMinimumDepthIsAtMostOnePiece(t *testing.T) {
	for _, tc := range []struct {
		configured int
		piece      int64
		want       int
	}{
		{configured: 4, piece: 256 << 10, want: 4},
		{configured: 4, piece: 32 << 10, want: 2},
		{configured: 4, piece: 16 << 10, want: 1},
		{configured: 4, piece: 8 << 10, want: 1}, // a piece smaller than a block is one request
		{configured: 0, piece: 256 << 10, want: 1},
	} {
		if got := minDepthFor(tc.configured, tc.piece); got != tc.want {
			t.Errorf("minDepthFor(%d, %d) = %d, want %d", tc.configured, tc.piece, got, tc.want)
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
