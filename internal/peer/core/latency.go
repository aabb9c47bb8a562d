package core

import "time"

// Request latency: how long a peer takes to answer a request when it is not busy with our
// earlier ones. The pipeline (requests.go) keeps QueueTime of the rate in flight, and more when
// the latency is longer than that, so that a peer that answers slowly but steadily (Transmission
// paces its uploads in bursts about half a second apart) is asked for enough to keep it
// sending: with the rate alone a slow answer makes a shallow pipeline, which makes the rate
// slower still.
//
// The latency is the smallest request-to-block time seen over the last two windows: queueing
// behind our own requests or behind the peer's other uploads only adds to a sample, so the
// smallest one is the peer's own delay, and it is forgotten within two windows when it grows.

// latencyWindow is how long a latency sample counts.
const latencyWindow = 10 * time.Second

// latencyMin is a windowed minimum of request latencies.
type latencyMin struct {
	current, previous time.Duration // the minimum of this window and of the last one (0: none)
	windowStart       time.Time
}

// add records one sample at now.
func (l *latencyMin) add(now time.Time, d time.Duration) {
	if elapsed := now.Sub(l.windowStart); elapsed >= latencyWindow {
		l.previous, l.current, l.windowStart = l.current, 0, now
		if elapsed >= 2*latencyWindow {
			l.previous = 0 // the last window had no sample
		}
	}
	if l.current == 0 || d < l.current {
		l.current = d
	}
}

// get is the minimum of the current and the last window (0 without a sample).
func (l *latencyMin) get() time.Duration {
	switch {
	case l.previous == 0:
		return l.current
	case l.current == 0:
		return l.previous
	}
	return min(l.current, l.previous)
}

// requestedAt is when block b was asked of peer (false when it is not outstanding there).
func (p *Picker) requestedAt(peer ConnKey, b Block) (time.Time, bool) {
	_, blk, ok := p.lookup(b)
	if !ok {
		return time.Time{}, false
	}
	for _, h := range blk.holders[:blk.nHolders] {
		if h.key == peer {
			return h.at, !h.at.IsZero()
		}
	}
	return time.Time{}, false
}

// latencyWeight is how many times the latency beyond QueueTime the pipeline keeps in flight
// besides QueueTime. A peer whose answers are held back by our pipeline delivers depth blocks per
// latency, so its measured rate is what the pipeline allows, not what the peer could give: with
// one latency the pipeline would grow by a fifth per rate window; with four it quadruples,
// while a peer that answers at once (latency near zero) is unaffected.
const latencyWeight = 4
