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
	estimate   time.Duration // what the swarm should take with that cap (paceTime)
}

const (
	// minPaceRate is the lowest cap chosen: one 16 KiB block per second.
	minPaceRate = 16 << 10
	// chokeRound is the peers' default choking interval (the note's 10 s): until the first
	// round, leechers upload to no one and the seeder alone feeds the swarm.
	chokeRound = 10 * time.Second
	// swarmEfficiency is the share of the peers' capped upload that becomes verified pieces
	// once they trade, measured on the demo (8 and 30 leechers of 64 MiB, 200 of 16 MiB): pieces
	// sent to two peers at once, rate limiter bursts, the endgame's duplicates.
	swarmEfficiency = 0.7
)

// paceTime is the model of a swarm of size bytes and leechers peers whose every peer uploads at
// most rate bytes/s. Two bounds, the larger wins:
//
//   - the seeder must send one whole copy: size/rate;
//   - the leechers need leechers*size bytes; for the first choking round (or a third of a short
//     run) only the seeder sends, then every peer does, at swarmEfficiency of its cap.
func paceTime(size int64, leechers int, rate float64, round time.Duration) time.Duration {
	s, n, u, c := float64(size), float64(leechers), rate, round.Seconds()
	seeder := s / (u * swarmEfficiency)
	trade := c + math.Max(0, n*s-u*c)/((n+1)*u*swarmEfficiency)
	return time.Duration(math.Max(seeder, trade) * float64(time.Second))
}

// choosePacing picks the upload cap with which the swarm of paceTime takes about target: the
// inverse of each bound, the larger cap. The seeder's round is a third of target when target
// is short.
func choosePacing(size int64, leechers int, target time.Duration) pacing {
	if size <= 0 || leechers < 1 || target <= 0 {
		return pacing{}
	}
	round := min(chokeRound, target/3)
	s, n, t, c := float64(size), float64(leechers), target.Seconds(), round.Seconds()
	seeder := s / (t * swarmEfficiency)
	// t = c + (n*s - u*c) / ((n+1)*u*e)  <=>  u = n*s / ((t-c)*(n+1)*e + c)
	trade := n * s / ((t-c)*(n+1)*swarmEfficiency + c)
	u := max(int64(math.Ceil(math.Max(seeder, trade))), minPaceRate)
	return pacing{uploadRate: u, estimate: paceTime(size, leechers, float64(u), round)}
}

// String describes the pacing for the demo's first lines.
func (p pacing) String() string {
	return fmt.Sprintf("every peer uploads at most %s/s (--upload-rate %d), so the swarm takes about %s",
		humanBytes(float64(p.uploadRate)), p.uploadRate, p.estimate.Round(time.Second))
}
