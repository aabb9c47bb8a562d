package main

import (
	"math"
	"slices"
	"time"
)

// figures are the numbers for one run (or, in a summary, their medians).
type figures struct {
	MakespanS         float64 `json:"makespan_s"`
	TStarS            float64 `json:"t_star_s"`
	FluidBoundS       float64 `json:"fluid_bound_s"`
	MakespanOverTStar float64 `json:"makespan_over_t_star"`
	MedianS           float64 `json:"median_s"`
	TailRatio         float64 `json:"tail_ratio"`
	UploadUtilization float64 `json:"upload_utilization"`
	SeederUploadOverF float64 `json:"seeder_upload_over_f"`
	EndgameDupRatio   float64 `json:"endgame_dup_ratio"`
	GoodputBps        float64 `json:"goodput_bytes_per_s"`
	// VerifiedGoodputBps is N F over the time the last piece was verified, leaving out each
	// copy's final sync to disk (which makespan_s includes).
	VerifiedGoodputBps float64 `json:"verified_goodput_bytes_per_s"`
	// By role: median completion of compliant leechers, of fast ones and of free-riders (0: none).
	CompliantMedianS float64 `json:"compliant_median_s"`
	FastMedianS      float64 `json:"fast_median_s,omitempty"`
	FreeRiderMedianS float64 `json:"free_rider_median_s,omitempty"`
	// FreeRiderProgressAtCompliantMedian is the median share of the file the free-riders held
	// when half the compliant leechers were done: what tit-for-tat denies them while the
	// compliant peers still trade (afterwards the finished peers seed to everyone).
	FreeRiderProgressAtCompliantMedian float64 `json:"free_rider_progress_at_compliant_median,omitempty"`
	Completed                          int     `json:"completed"`
	SelfCores                          float64 `json:"cpu_self_cores"`
	MachineBusy                        float64 `json:"cpu_machine_busy"`
	// CPUNsPerByte is the peers' CPU time over the run (runRecord.CPUSelf: user + system) per
	// byte delivered (completed leechers x F).
	CPUNsPerByte float64 `json:"cpu_ns_per_byte"`
	memoryFigures
	AllVerified bool `json:"all_verified"`
	CPUBound    bool `json:"cpu_bound"`
	TimedOut    bool `json:"timed_out,omitempty"`
}

// memoryFigures are a run's memory (memoryUse) in bytes; 0 where not measured.
type memoryFigures struct {
	// MemPeakBytes is the lab process's peak live Go heap plus goroutine stacks (100 ms samples);
	// MemPerPeerBytes what each session (the seeder and every leecher) added to it: (peak -
	// baseline before the peers) / (N + 1).
	MemPeakBytes    float64 `json:"mem_peak_bytes,omitempty"`
	MemPerPeerBytes float64 `json:"mem_per_peer_bytes,omitempty"`
	// StacksPeakBytes and GoroutinesPeak: the goroutine stacks (part of MemPeakBytes) and the
	// number of goroutines at their peaks.
	StacksPeakBytes float64 `json:"mem_stacks_peak_bytes,omitempty"`
	GoroutinesPeak  float64 `json:"goroutines_peak,omitempty"`
	// RSSPeakBytes is the lab process's peak resident set (100 ms samples).
	RSSPeakBytes float64 `json:"rss_peak_bytes,omitempty"`
	// The tracker's resident set when it ran as a child process: once listening, and its
	// high-water mark.
	TrackerRSSIdleBytes float64 `json:"tracker_rss_idle_bytes,omitempty"`
	TrackerRSSPeakBytes float64 `json:"tracker_rss_peak_bytes,omitempty"`
}

// memoryOf turns a run's memoryUse into figures, for sessions peers.
func memoryOf(m memoryUse, sessions int) memoryFigures {
	return memoryFigures{MemPeakBytes: float64(m.PeakBytes), MemPerPeerBytes: m.perPeer(sessions),
		StacksPeakBytes: float64(m.PeakStacksBytes), GoroutinesPeak: float64(m.PeakGoroutines),
		RSSPeakBytes: float64(m.PeakRSSBytes), TrackerRSSIdleBytes: float64(m.TrackerIdleRSSBytes),
		TrackerRSSPeakBytes: float64(m.TrackerPeakRSSBytes)}
}

// cpuNsPerByte is cpu over the bytes delivered (0 when none were).
func cpuNsPerByte(cpu time.Duration, delivered float64) float64 {
	if delivered <= 0 {
		return 0
	}
	return float64(cpu.Nanoseconds()) / delivered
}

// cpuBoundBusy: a run during which the machine's cores were busier than this (by the lab or
// anyone else) was limited by the CPU rather than by the caps.
const cpuBoundBusy = 0.9

// tStar is the lower bound on the makespan. For a swarm with equal caps u:
// (F/u)(1 + floor(log2 N)/M), piece-based broadcast; with unequal caps the fluid bound times the
// same piece factor. For client-server: N F / u_s. Uncapped runs have no bound (0).
func tStar(spec swarmSpec, numPieces int) float64 {
	if spec.UploadCap <= 0 {
		return 0
	}
	f, n := float64(spec.Size), float64(spec.Leechers)
	if spec.ClientServer {
		return n * f / float64(spec.seederCap())
	}
	pieceFactor := 1 + math.Floor(math.Log2(n))/float64(numPieces)
	if spec.FastPeers == 0 && spec.FreeRiders == 0 && spec.seederCap() == spec.UploadCap {
		return f / float64(spec.UploadCap) * pieceFactor
	}
	return fluidBound(spec) * pieceFactor
}

// fluidBound is Kurose and Ross's bound on the makespan: max(F/u_s, N F/(u_s + sum u_i)); for
// client-server, N F/u_s. Free-riders add no capacity.
func fluidBound(spec swarmSpec) float64 {
	if spec.UploadCap <= 0 {
		return 0
	}
	f, n, us := float64(spec.Size), float64(spec.Leechers), float64(spec.seederCap())
	if spec.ClientServer {
		return n * f / us
	}
	sum := us
	for i := range spec.Leechers {
		if spec.leecherRole(i) != "free-rider" {
			sum += float64(spec.leecherCap(i))
		}
	}
	return max(f/us, n*f/sum)
}

// computeFigures turns one run's record into its figures.
func computeFigures(spec swarmSpec, numPieces int, rec *runRecord) figures {
	fg := figures{TStarS: tStar(spec, numPieces), FluidBoundS: fluidBound(spec), AllVerified: rec.AllVerified,
		TimedOut: rec.TimedOut, SelfCores: rec.CPU.SelfCores, MachineBusy: rec.CPU.MachineBusy,
		memoryFigures: memoryOf(rec.Memory, len(rec.Peers))}
	var all, compliant, fast, riders []float64
	var down, up, capSum, lastVerified float64
	for _, p := range rec.Peers {
		up += float64(p.Up)
		capSum += float64(p.CapBps)
		if p.Role == "seeder" || p.Killed {
			continue
		}
		if p.DoneS > 0 {
			all = append(all, p.DoneS)
			lastVerified = max(lastVerified, p.VerifiedS)
			down += float64(p.Down)
			switch p.Role {
			case "free-rider":
				riders = append(riders, p.DoneS)
			case "fast":
				fast = append(fast, p.DoneS)
			default:
				compliant = append(compliant, p.DoneS)
			}
		}
	}
	fg.Completed = len(all)
	if len(all) == 0 {
		return fg
	}
	fg.MakespanS = slices.Max(all)
	if rec.TimedOut {
		fg.MakespanS = spec.Timeout.Seconds()
	}
	fg.MedianS = median(all)
	fg.CompliantMedianS, fg.FastMedianS, fg.FreeRiderMedianS = median(compliant), median(fast), median(riders)
	if len(riders) > 0 {
		fg.FreeRiderProgressAtCompliantMedian = riderProgressAt(rec, numPieces, fg.CompliantMedianS)
	}
	fg.TailRatio = fg.MakespanS / fg.MedianS
	if fg.TStarS > 0 {
		fg.MakespanOverTStar = fg.MakespanS / fg.TStarS
	}
	if capSum > 0 {
		fg.UploadUtilization = up / (capSum * fg.MakespanS)
	}
	size := float64(spec.Size)
	if rec.SeederUpAtAllExist >= 0 {
		fg.SeederUploadOverF = float64(rec.SeederUpAtAllExist) / size
	}
	fg.EndgameDupRatio = max(down-float64(len(all))*size, 0) / (float64(len(all)) * size)
	fg.GoodputBps = float64(len(all)) * size / fg.MakespanS
	fg.CPUNsPerByte = cpuNsPerByte(rec.CPUSelf, float64(len(all))*size)
	if lastVerified > 0 {
		fg.VerifiedGoodputBps = float64(len(all)) * size / lastVerified
	}
	fg.CPUBound = spec.UploadCap <= 0 || fg.MachineBusy >= cpuBoundBusy
	return fg
}

// riderProgressAt is the median share of the pieces the free-riders held at time t (s).
func riderProgressAt(rec *runRecord, numPieces int, t float64) float64 {
	if numPieces == 0 {
		return 0
	}
	var shares []float64
	for _, p := range rec.Peers {
		if p.Role != "free-rider" {
			continue
		}
		held := 0
		for _, s := range p.Samples {
			if s.T > t {
				break
			}
			held = s.Pieces
		}
		shares = append(shares, float64(held)/float64(numPieces))
	}
	return median(shares)
}

// median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// medianFigures is the median of every figure over the repetitions; all_verified holds when
// every run verified, cpu_bound when any run was.
func medianFigures(runs []figures) figures {
	pick := func(f func(figures) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	m := figures{
		MakespanS:         pick(func(f figures) float64 { return f.MakespanS }),
		TStarS:            pick(func(f figures) float64 { return f.TStarS }),
		FluidBoundS:       pick(func(f figures) float64 { return f.FluidBoundS }),
		MakespanOverTStar: pick(func(f figures) float64 { return f.MakespanOverTStar }),
		MedianS:           pick(func(f figures) float64 { return f.MedianS }),
		TailRatio:         pick(func(f figures) float64 { return f.TailRatio }),
		UploadUtilization: pick(func(f figures) float64 { return f.UploadUtilization }),
		SeederUploadOverF: pick(func(f figures) float64 { return f.SeederUploadOverF }),
		EndgameDupRatio:   pick(func(f figures) float64 { return f.EndgameDupRatio }),
		GoodputBps:        pick(func(f figures) float64 { return f.GoodputBps }),
		VerifiedGoodputBps: pick(func(f figures) float64 {
			return f.VerifiedGoodputBps
		}),
		CompliantMedianS: pick(func(f figures) float64 { return f.CompliantMedianS }),
		FastMedianS:      pick(func(f figures) float64 { return f.FastMedianS }),
		FreeRiderMedianS: pick(func(f figures) float64 { return f.FreeRiderMedianS }),
		FreeRiderProgressAtCompliantMedian: pick(func(f figures) float64 {
			return f.FreeRiderProgressAtCompliantMedian
		}),
		Completed:    int(pick(func(f figures) float64 { return float64(f.Completed) })),
		SelfCores:    pick(func(f figures) float64 { return f.SelfCores }),
		MachineBusy:  pick(func(f figures) float64 { return f.MachineBusy }),
		CPUNsPerByte: pick(func(f figures) float64 { return f.CPUNsPerByte }),
		memoryFigures: memoryFigures{
			MemPeakBytes:        pick(func(f figures) float64 { return f.MemPeakBytes }),
			MemPerPeerBytes:     pick(func(f figures) float64 { return f.MemPerPeerBytes }),
			StacksPeakBytes:     pick(func(f figures) float64 { return f.StacksPeakBytes }),
			GoroutinesPeak:      pick(func(f figures) float64 { return f.GoroutinesPeak }),
			RSSPeakBytes:        pick(func(f figures) float64 { return f.RSSPeakBytes }),
			TrackerRSSIdleBytes: pick(func(f figures) float64 { return f.TrackerRSSIdleBytes }),
			TrackerRSSPeakBytes: pick(func(f figures) float64 { return f.TrackerRSSPeakBytes }),
		},
		AllVerified: true,
	}
	for _, r := range runs {
		m.AllVerified = m.AllVerified && r.AllVerified
		m.CPUBound = m.CPUBound || r.CPUBound
		m.TimedOut = m.TimedOut || r.TimedOut
	}
	return m
}

// spread is the smallest and largest makespan over the repetitions.
func spread(runs []figures) [2]float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range runs {
		lo, hi = min(lo, r.MakespanS), max(hi, r.MakespanS)
	}
	return [2]float64{lo, hi}
}
