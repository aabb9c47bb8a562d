package main

import (
	"fmt"
	"math"
	"time"
)

// pacing is how --watch slows the swarm down so that a person can follow it: every peer, the
// seeder included, uploads at most uploadRate bytes per second.
type pacing struct {
	uploadRate int64
	estimate   time.Duration // what the swarm should take with that cap
}

// minPaceRate is the lowest cap chosen: one 16 KiB block per second.
const minPaceRate = 16 << 10

// swarmEfficiency is the share of the ideal time a capped swarm achieves, measured on the demo
// (see choosePacing): the seeder's first copy goes partly to several leechers at once, and a
// choking round (10 s) passes before tit-for-tat finds the fast partners.
const swarmEfficiency = 0.75

// choosePacing picks the upload cap with which size bytes reach leechers peers in about target.
//
// With every peer capped at U, the swarm cannot finish before the seeder has sent one whole
// copy, size/U; and the leechers together need leechers*size bytes from an upload capacity of
// (leechers+1)*U, which is never the tighter bound. So the ideal time is size/U, and the cap is
// size/target, raised by the share a real swarm loses to that ideal (swarmEfficiency) and by the
// relay depth: each doubling of the swarm puts one more hop of one piece between the seeder and
// the last leecher.
func choosePacing(size int64, leechers int, target time.Duration, pieceSize int64) pacing {
	if size <= 0 || leechers < 1 || target <= 0 {
		return pacing{}
	}
	hops := math.Ceil(math.Log2(float64(leechers) + 1))
	// The ideal time, size/U, plus one piece per hop at U: (size + hops*piece)/U = target*eff.
	rate := (float64(size) + hops*float64(pieceSize)) / (target.Seconds() * swarmEfficiency)
	u := max(int64(math.Ceil(rate)), minPaceRate)
	estimate := time.Duration((float64(size) + hops*float64(pieceSize)) / float64(u) / swarmEfficiency * float64(time.Second))
	return pacing{uploadRate: u, estimate: estimate}
}

// String describes the pacing for the demo's first lines.
func (p pacing) String() string {
	return fmt.Sprintf("every peer uploads at most %s/s (--upload-rate %d), so the swarm takes about %s",
		humanBytes(float64(p.uploadRate)), p.uploadRate, p.estimate.Round(time.Second))
}
