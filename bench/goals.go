package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Issue 15's goals, read from the scenarios' results: the reference (medians of 3), the
// uncapped run against libtorrent in the same run, the CPU per delivered byte and the scale
// scenario. Each is written with its measured figure and whether it is met.

// Targets of issue 15.
const (
	goalReferenceOverTStar = 1.03
	goalUtilization        = 0.95
	goalTail               = 1.05
	goalSeederOverF        = 1.02
	goalUncappedBps        = 1.1e9
	goalOverLibtorrent     = 2.3
	goalCappedNsPerByte    = 3
	goalScaleOverTStar     = 1.10
	goalScaleN             = 1000
	goalReps               = 3
)

// Names of the variants the goals read.
const (
	referenceVariant = "reference"
	// referenceDiskVariant is the reference on disk: reported next to its goals, not judged.
	referenceDiskVariant = "reference-disk"
	uncappedVariant      = "uncapped"
	libtorrentVariant    = "libtorrent"
	scaleScenario        = "scale"
)

// Status of a goal.
const (
	statusMet         = "met"
	statusNotMet      = "not met"
	statusNotMeasured = "not measured"
	statusReported    = "reported"
)

// goal is one goal: what, its target, the measured figure and its status, and where
// docs/benchmarks.md says what limits it (shown when it is not met).
type goal struct {
	What, Target, Measured, Status string
	Limit                          string
}

// Where docs/benchmarks.md says what limits a goal, with the profile or simulation behind it.
const (
	limitProtocol = `"Simulator vs lab" and "Second round": the simulator's figure for the same swarm, without CPU`
	limitUtil     = `"Issue 15's goals": a swarm finishing at T* shows at most N F / ((N + 1) u T*)`
	limitCPU      = `"Where the CPU goes": profiles (make bench BENCH_PROFILE=dir)`
	limitScale    = `"Scale" and "Second round": the simulator at this shape (MINIBIT_SIM_SCALE=N)`
)

// goalsOf computes every goal from the results at hand, by scenario name.
func goalsOf(results map[string]*scenarioResult) []goal {
	var gs []goal
	gs = append(gs, referenceGoals(findVariant(results, "reference", referenceVariant))...)
	gs = append(gs, referenceDiskGoal(findVariant(results, "reference", referenceDiskVariant)))
	gs = append(gs, uncappedGoals(findVariant(results, "uncapped", uncappedVariant),
		findVariant(results, "uncapped", libtorrentVariant))...)
	gs = append(gs, scaleGoals(results[scaleScenario])...)
	return gs
}

// findVariant is the named variant of a scenario's results, or nil.
func findVariant(results map[string]*scenarioResult, scenarioName, name string) *variantResult {
	res := results[scenarioName]
	if res == nil {
		return nil
	}
	for i := range res.Variants {
		if res.Variants[i].Name == name {
			return &res.Variants[i]
		}
	}
	return nil
}

// atMost and atLeast judge a measured figure against its bound (inclusive).
func atMost(x, bound float64) bool  { return x <= bound }
func atLeast(x, bound float64) bool { return x >= bound }

// judge is a goal's status: met when ok holds for a run whose copies all verified.
func judge(v *variantResult, ok bool) string {
	if ok && v.AllVerified && !v.TimedOut {
		return statusMet
	}
	return statusNotMet
}

// repsNote says how many runs a median is of, and flags fewer than the goals ask.
func repsNote(v *variantResult) string {
	n := len(v.Repetitions)
	switch {
	case n == 1:
		return "1 run; the goal is a median of 3"
	case n < goalReps:
		return fmt.Sprintf("median of %d; the goal is a median of 3", n)
	}
	return fmt.Sprintf("median of %d", n)
}

// runsNote says how many runs a figure is the median of, where the issue asks no number (the
// scale scenario: its four sizes take minutes a repetition).
func runsNote(v *variantResult) string {
	if n := len(v.Repetitions); n != 1 {
		return fmt.Sprintf("median of %d", n)
	}
	return "1 run"
}

// verifiedNote adds what failed to a measured figure when the run did not deliver every copy.
func verifiedNote(v *variantResult) string {
	switch {
	case v.TimedOut:
		return "; timed out"
	case !v.AllVerified:
		return "; not every copy verified"
	}
	return ""
}

func notMeasured(what, target string) goal {
	return goal{What: what, Target: target, Measured: "not measured", Status: statusNotMeasured}
}

// referenceCheck is one goal of the reference variant.
type referenceCheck struct {
	what, target, format, limit string
	value                       func(*variantResult) float64
	ok                          func(x, bound float64) bool
	bound                       float64
}

var referenceChecks = []referenceCheck{
	{"reference makespan / T*", "<= 1.03", "%.3f", limitProtocol, func(v *variantResult) float64 { return v.MakespanOverTStar }, atMost, goalReferenceOverTStar},
	{"reference upload utilization", ">= 0.95", "%.3f", limitUtil, func(v *variantResult) float64 { return v.UploadUtilization }, atLeast, goalUtilization},
	{"reference tail (last / median leecher)", "<= 1.05", "%.3f", limitProtocol, func(v *variantResult) float64 { return v.TailRatio }, atMost, goalTail},
	{"reference seeder upload until every piece exists", "<= 1.02 F", "%.3f F", limitProtocol, func(v *variantResult) float64 { return v.SeederUploadOverF }, atMost, goalSeederOverF},
	{"reference CPU per delivered byte (capped)", "<= 3 ns/B", "%.2f ns/B", limitCPU, func(v *variantResult) float64 { return v.CPUNsPerByte }, atMost, goalCappedNsPerByte},
}

// referenceGoals: makespan, utilization, tail, seeder and CPU per byte of the reference variant.
func referenceGoals(v *variantResult) []goal {
	gs := make([]goal, 0, len(referenceChecks))
	for i, c := range referenceChecks {
		if v == nil {
			gs = append(gs, notMeasured(c.what, c.target))
			continue
		}
		x := c.value(v)
		measured := fmt.Sprintf(c.format, x)
		if i == 0 {
			measured += fmt.Sprintf(" (%.2f s, T* %.2f s%s)", v.MakespanS, v.TStarS, filesNote(v))
		}
		measured += " (" + repsNote(v) + verifiedNote(v) + ")"
		gs = append(gs, goal{What: c.what, Target: c.target, Measured: measured, Status: judge(v, c.ok(x, c.bound)), Limit: c.limit})
	}
	return gs
}

// referenceDiskGoal reports the reference on disk (the reference-disk variant) next to the goals,
// which are judged in memory: the same swarm with its 50 copies written to the machine's one
// disk, a cost a deployment, each peer on its own disk, does not have.
func referenceDiskGoal(v *variantResult) goal {
	const what = "reference on disk (variant reference-disk)"
	if v == nil {
		return notMeasured(what, "reported")
	}
	return goal{What: what, Target: "reported", Status: statusReported,
		Measured: fmt.Sprintf("makespan/T* %.3f (%.2f s), utilization %.3f (%s%s%s)", v.MakespanOverTStar, v.MakespanS,
			v.UploadUtilization, runsNote(v), filesNote(v), verifiedNote(v))}
}

// filesNote says where a variant's files were, for its figures ("" in results from before the
// lab recorded it).
func filesNote(v *variantResult) string {
	if v.Storage == "" {
		return ""
	}
	if v.Storage == storageMemory {
		return ", files in memory"
	}
	return ", files on " + v.Storage
}

// uncappedGoals: goodput to durable copies, the ratio to libtorrent in the same run, CPU per byte.
func uncappedGoals(mb, lt *variantResult) []goal {
	const (
		speed = "uncapped 8 x 256 MiB goodput to durable copies"
		ratio = "uncapped goodput / libtorrent's, same run"
		cpu   = "uncapped CPU per delivered byte"
	)
	if mb == nil {
		return []goal{notMeasured(speed, ">= 1.1 GB/s"), notMeasured(ratio, ">= 2.3"), notMeasured(cpu, "reported")}
	}
	gs := []goal{{What: speed, Target: ">= 1.1 GB/s",
		Measured: fmt.Sprintf("%.3f GB/s (%.2f s; %s%s)", mb.GoodputBps/1e9, mb.MakespanS, repsNote(mb), verifiedNote(mb)),
		Status:   judge(mb, atLeast(mb.GoodputBps, goalUncappedBps)), Limit: limitCPU}}
	if lt == nil || lt.GoodputBps <= 0 {
		gs = append(gs, notMeasured(ratio, ">= 2.3"))
	} else {
		r := mb.GoodputBps / lt.GoodputBps
		gs = append(gs, goal{What: ratio, Target: ">= 2.3",
			Measured: fmt.Sprintf("%.2f (libtorrent %.3f GB/s%s)", r, lt.GoodputBps/1e9, verifiedNote(lt)),
			Status:   judge(mb, atLeast(r, goalOverLibtorrent) && lt.AllVerified), Limit: limitCPU})
	}
	gs = append(gs, goal{What: cpu, Target: "reported", Measured: fmt.Sprintf("%.2f ns/B", mb.CPUNsPerByte), Status: statusReported})
	return gs
}

// scaleGoals: N = 1000 within 1.10 x T*, makespan growing with log N, memory at N = 1000.
func scaleGoals(res *scenarioResult) []goal {
	const (
		bound  = "scale: makespan / T* at N = 1000"
		growth = "scale: makespan grows with log N, not N"
		memory = "scale: memory at N = 1000"
	)
	var top *variantResult
	var vs []variantResult
	if res != nil {
		vs = res.Variants
		for i := range vs {
			if vs[i].Peers == goalScaleN {
				top = &vs[i]
			}
		}
	}
	if top == nil {
		return []goal{notMeasured(bound, "<= 1.10"), growthGoal(growth, vs), notMeasured(memory, "reported")}
	}
	return []goal{{What: bound, Target: "<= 1.10",
		Measured: fmt.Sprintf("%.3f (%.2f s, T* %.2f s; %s%s)", top.MakespanOverTStar, top.MakespanS, top.TStarS,
			runsNote(top), verifiedNote(top)),
		Status: judge(top, atMost(top.MakespanOverTStar, goalScaleOverTStar)), Limit: limitScale},
		growthGoal(growth, vs),
		{What: memory, Target: "reported", Status: statusReported,
			Measured: fmt.Sprintf("tracker %.1f MiB peak RSS (%.1f MiB idle); a peer %.0f KiB (the lab's live heap and stacks, %.0f MiB at the peak, %.0f MiB of them the stacks of %.0f goroutines, over N + 1 sessions)",
				top.TrackerRSSPeakBytes/mib, top.TrackerRSSIdleBytes/mib, top.MemPerPeerBytes/kib, top.MemPeakBytes/mib,
				top.StacksPeakBytes/mib, top.GoroutinesPeak)}}
}

// growthGoal judges how the makespan grows from the smallest N to the largest measured: no faster than
// log N means makespan(N) / makespan(N0) <= log2 N / log2 N0 (a makespan a + b log2 N with
// a >= 0 stays under it; one that grows with N, as client-server's N F / u_s, is far over).
// The fit's seconds per doubling of N are given too.
func growthGoal(what string, vs []variantResult) goal {
	const target = "makespan(N) / makespan(N0) <= log2 N / log2 N0"
	pts := make([]variantResult, 0, len(vs))
	for _, v := range vs {
		if v.MakespanS > 0 && v.Peers > 1 {
			pts = append(pts, v)
		}
	}
	if len(pts) < 2 {
		return notMeasured(what, target)
	}
	slices.SortFunc(pts, func(a, b variantResult) int { return a.Peers - b.Peers })
	lo, hi := pts[0], pts[len(pts)-1]
	ratio := hi.MakespanS / lo.MakespanS
	logRatio := math.Log2(float64(hi.Peers)) / math.Log2(float64(lo.Peers))
	_, slope := fitLog2(pts)
	ok := atMost(ratio, logRatio)
	for _, v := range pts {
		ok = ok && v.AllVerified && !v.TimedOut
	}
	status := statusNotMet
	if ok {
		status = statusMet
	}
	return goal{What: what, Target: target, Status: status,
		Measured: fmt.Sprintf("%.3f from N = %d to %d (log2 ratio %.3f, N ratio %.0f); %+.2f s per doubling of N",
			ratio, lo.Peers, hi.Peers, logRatio, float64(hi.Peers)/float64(lo.Peers), slope)}
}

// fitLog2 is the least-squares line makespan = a + b log2 N through the variants.
func fitLog2(vs []variantResult) (a, b float64) {
	var sx, sy, sxx, sxy float64
	n := float64(len(vs))
	for _, v := range vs {
		x := math.Log2(float64(v.Peers))
		sx, sy, sxx, sxy = sx+x, sy+v.MakespanS, sxx+x*x, sxy+x*v.MakespanS
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return sy / n, 0
	}
	b = (n*sxy - sx*sy) / den
	return (sy - b*sx) / n, b
}

// writeGoals writes the goals as a markdown table, with the dates of the results they read.
func writeGoals(w io.Writer, results map[string]*scenarioResult) error {
	var b strings.Builder
	b.WriteString("## Issue 15's goals\n\n")
	for _, name := range sortedKeys(results) {
		if name == "reference" || name == "uncapped" || name == scaleScenario {
			fmt.Fprintf(&b, "%s: %s. ", name, results[name].Date)
		}
	}
	b.WriteString("\n\n| goal | target | measured | status | what limits it (docs/benchmarks.md) |\n|---|---|---|---|---|\n")
	for _, g := range goalsOf(results) {
		limit := " "
		if g.Status == statusNotMet {
			limit = " " + g.Limit + " "
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |%s|\n", g.What, g.Target, g.Measured, g.Status, limit)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
