package main

import (
	"context"
	"fmt"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// sample is one reading of one peer.
type sample struct {
	T      float64 `json:"t"`
	Down   int64   `json:"down"`
	Up     int64   `json:"up"`
	Pieces int     `json:"pieces"`
}

// swarmSample is one reading of the whole swarm.
type swarmSample struct {
	T float64 `json:"t"`
	// MinAvailability and MeanAvailability count, per piece, the live peers holding it.
	MinAvailability  int     `json:"min_availability"`
	MeanAvailability float64 `json:"mean_availability"`
	// UploadBps is the swarm's upload rate over the last interval; CapBps the sum of live caps.
	UploadBps float64 `json:"upload_bps"`
	CapBps    float64 `json:"cap_bps"`
}

// peerRecord is one peer's figures and series.
type peerRecord struct {
	Index  int     `json:"index"`
	Role   string  `json:"role"`
	CapBps int64   `json:"upload_cap_bytes_per_s"`
	DoneS  float64 `json:"done_s"` // 0: did not complete
	// VerifiedS is when its last piece was verified; DoneS adds the sync to disk and the rename.
	VerifiedS float64  `json:"verified_s,omitempty"`
	Killed    bool     `json:"killed,omitempty"`
	Up        int64    `json:"bytes_up"`
	Down      int64    `json:"bytes_down"`
	Verified  bool     `json:"verified"`
	Samples   []sample `json:"-"` // plotted, not written (too long for the JSON)
}

// runRecord is everything one run measured.
type runRecord struct {
	Peers []peerRecord
	Swarm []swarmSample
	CPU   cpuUse
	// CPUSelf is the CPU time (user + system) the swarm's peers used during the run: the lab
	// process's for MiniBit (its tracker's too, when it runs as a child), the client process's
	// for another client. cpu_ns_per_byte divides it by the bytes delivered.
	CPUSelf time.Duration
	// Memory is the lab's memory during the run (sampled with the swarm).
	Memory memoryUse
	Events []string
	// SeederUpAtAllExist is what the seeder had uploaded when every piece first existed at some
	// leecher (-1: never).
	SeederUpAtAllExist int64
	TimedOut           bool
	AllVerified        bool
}

// observe samples the swarm every 100 ms and fires its faults until every live leecher is done
// (or the timeout).
func (sw *swarm) observe(ctx context.Context, expected time.Duration) *runRecord {
	rec := &runRecord{Peers: make([]peerRecord, len(sw.peers)), SeederUpAtAllExist: -1}
	for i, p := range sw.peers {
		rec.Peers[i] = peerRecord{Index: i, Role: p.role, CapBps: p.capBps}
	}
	faults := sw.faults(expected)
	tick := time.NewTicker(sampleInterval)
	defer tick.Stop()
	deadline := time.NewTimer(sw.spec.Timeout)
	defer deadline.Stop()
	var lastUp int64
	for {
		select {
		case <-ctx.Done():
			rec.TimedOut = true
			return rec
		case <-deadline.C:
			rec.TimedOut = true
			sw.finish(rec)
			sw.logStuck(rec)
			return rec
		case <-tick.C:
		}
		now := time.Since(sw.start)
		faults = sw.fire(faults, now, rec)
		lastUp = sw.sampleAll(rec, now, lastUp)
		rec.Memory.sample()
		if sw.allDone() {
			sw.finish(rec)
			return rec
		}
	}
}

// sampleAll reads every live peer once and the swarm's availability; it returns the swarm's
// total upload so far.
func (sw *swarm) sampleAll(rec *runRecord, now time.Duration, lastUp int64) int64 {
	t := now.Seconds()
	n := sw.src.meta.NumPieces()
	avail := make([]int, n)
	atLeechers := make([]bool, n)
	var totalUp int64
	var capSum float64
	for i, p := range sw.peers {
		if p.killed() {
			continue
		}
		st := p.sess.Stats()
		rec.Peers[i].Samples = append(rec.Peers[i].Samples, sample{T: t, Down: st.BytesDownloaded, Up: st.BytesUploaded, Pieces: st.PiecesHave})
		rec.Peers[i].Up, rec.Peers[i].Down = st.BytesUploaded, st.BytesDownloaded
		totalUp += st.BytesUploaded
		if _, done := p.done(); !done || i == 0 {
			capSum += float64(p.capBps)
		}
		if i == 0 && sw.seederGone() {
			continue
		}
		countPieces(p.sess.HaveBitfield(), avail, atLeechers, i > 0 && p.role != "free-rider")
	}
	sw.noteAllExist(rec, atLeechers)
	min, mean := minMean(avail)
	rec.Swarm = append(rec.Swarm, swarmSample{T: t, MinAvailability: min, MeanAvailability: mean,
		UploadBps: float64(totalUp-lastUp) / sinceLastSample(rec.Swarm, t), CapBps: capSum})
	return totalUp
}

// sinceLastSample is the time in seconds from the last swarm sample (or the start) to t: a
// sample is due every 100 ms, but on a busy machine with 1000 peers to read it may come later.
func sinceLastSample(samples []swarmSample, t float64) float64 {
	last := 0.0
	if n := len(samples); n > 0 {
		last = samples[n-1].T
	}
	if t <= last {
		return sampleInterval.Seconds()
	}
	return t - last
}

// countPieces adds bf to the availability and, for a leecher, to the pieces held by leechers.
func countPieces(bf wire.Bitfield, avail []int, atLeechers []bool, leecher bool) {
	for piece := range avail {
		if bf.Has(piece) {
			avail[piece]++
			if leecher {
				atLeechers[piece] = true
			}
		}
	}
}

// noteAllExist records the seeder's upload the first time every piece exists at a leecher that
// uploads (not a free-rider).
func (sw *swarm) noteAllExist(rec *runRecord, atLeechers []bool) {
	if rec.SeederUpAtAllExist >= 0 {
		return
	}
	for _, ok := range atLeechers {
		if !ok {
			return
		}
	}
	rec.SeederUpAtAllExist = sw.peers[0].sess.Stats().BytesUploaded
	rec.Events = append(rec.Events, "every piece exists at some leecher")
	if sw.spec.SeederLeaves {
		sw.kill(sw.peers[0], time.Since(sw.start))
		rec.Events = append(rec.Events, "the seeder left")
	}
}

func minMean(xs []int) (int, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	lo, sum := xs[0], 0
	for _, x := range xs {
		lo = min(lo, x)
		sum += x
	}
	return lo, float64(sum) / float64(len(xs))
}

func (sw *swarm) seederGone() bool { return sw.peers[0].killed() }

// allDone reports whether every leecher still running completed.
func (sw *swarm) allDone() bool {
	for _, p := range sw.peers[1:] {
		if _, done := p.done(); !done && !p.killed() {
			return false
		}
	}
	return true
}

// finish copies each leecher's completion time into the record.
func (sw *swarm) finish(rec *runRecord) {
	for i, p := range sw.peers {
		if d, ok := p.done(); ok && i > 0 {
			rec.Peers[i].DoneS = d.Seconds()
			rec.Peers[i].VerifiedS = p.verified().Seconds()
		}
		rec.Peers[i].Killed = p.killed()
	}
}

// kill stops one peer now (a crash, as the others see it: its connections close).
func (sw *swarm) kill(p *labPeer, now time.Duration) {
	p.mu.Lock()
	p.killedAt = now
	p.mu.Unlock()
	go p.stop()
}

// fault is an event planned at a time since the start.
type fault struct {
	at   time.Duration
	what string
}

// faults plans the spec's kills at fractions of the expected makespan.
func (sw *swarm) faults(expected time.Duration) []fault {
	var fs []fault
	for _, f := range sw.spec.KillAt {
		fs = append(fs, fault{at: time.Duration(f * float64(expected)), what: "kill-third"})
	}
	if f := sw.spec.KillTrackerAt; f > 0 {
		fs = append(fs, fault{at: time.Duration(f * float64(expected)), what: "kill-tracker"})
	}
	return fs
}

// fire runs the faults that are due and returns those still to come.
func (sw *swarm) fire(fs []fault, now time.Duration, rec *runRecord) []fault {
	rest := fs[:0]
	for _, f := range fs {
		if f.at > now {
			rest = append(rest, f)
			continue
		}
		switch f.what {
		case "kill-tracker":
			sw.tracker.kill()
		case "kill-third":
			sw.killThird(now)
		}
		rec.Events = append(rec.Events, f.what+" at "+now.Round(100*time.Millisecond).String())
	}
	return rest
}

// killThird stops a third of the leechers not yet done nor killed (every third one).
func (sw *swarm) killThird(now time.Duration) {
	var live []*labPeer
	for _, p := range sw.peers[1:] {
		if _, done := p.done(); !done && !p.killed() {
			live = append(live, p)
		}
	}
	for i, p := range live {
		if i%3 == 0 {
			sw.kill(p, now)
		}
	}
}

// logStuck records, for a run that timed out, the state of every leecher still downloading.
func (sw *swarm) logStuck(rec *runRecord) {
	for _, p := range sw.peers[1:] {
		if _, done := p.done(); done || p.killed() {
			continue
		}
		st := p.sess.Stats()
		state := "running"
		select {
		case err := <-p.errc:
			state = fmt.Sprintf("ended: %v", err)
			p.errc <- err
		default:
		}
		rec.Events = append(rec.Events, fmt.Sprintf("stuck leecher %d (%s): %+v", p.index, state, st))
	}
}
