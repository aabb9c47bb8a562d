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
	// seederEfficiency and swarmEfficiency are the shares of the capped upload that become
	// verified pieces, as measured on paced demos (docs/benchmarks.md, "The demo's pacing"):
	// the seeder's one copy loses little; trading peers lose more to requests in flight, pieces
	// sent to two peers and the endgame.
	seederEfficiency = 0.9
	swarmEfficiency  = 0.8
)

// paceTime is the model of a swarm of size bytes and leechers peers whose every peer uploads at
// most rate bytes/s. Two bounds, the larger wins: the seeder must send one whole copy,
// size/rate; and the leechers need leechers*size bytes from the capacity of every peer,
// (leechers+1)*rate.
func paceTime(size int64, leechers int, rate float64) time.Duration {
	s, n := float64(size), float64(leechers)
	seeder := s / (rate * seederEfficiency)
	swarm := n * s / ((n + 1) * rate * swarmEfficiency)
	return time.Duration(math.Max(seeder, swarm) * float64(time.Second))
}

// choosePacing picks the upload cap with which the swarm of paceTime takes about target: the
// inverse of each bound, the larger cap. It does not model the CPU: on 2 cores, 200 peers
// take longer than their caps allow.
func choosePacing(size int64, leechers int, target time.Duration) pacing {
	if size <= 0 || leechers < 1 || target <= 0 {
		return pacing{}
	}
	s, n, t := float64(size), float64(leechers), target.Seconds()
	rate := math.Max(s/(t*seederEfficiency), n*s/((n+1)*t*swarmEfficiency))
	u := max(int64(math.Ceil(rate)), minPaceRate)
	return pacing{uploadRate: u, estimate: paceTime(size, leechers, float64(u))}
}

// String describes the pacing for the demo's first lines.
func (p pacing) String() string {
	return fmt.Sprintf("every peer uploads at most %s/s (--upload-rate %d), so the swarm takes about %s",
		humanBytes(float64(p.uploadRate)), p.uploadRate, p.estimate.Round(time.Second))
}
