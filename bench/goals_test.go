package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// referenceAt is a reference result whose figures sit exactly on the goals' bounds.
func referenceAt() *variantResult {
	v := &variantResult{Name: referenceVariant, Peers: 50, Repetitions: make([]repetition, 3)}
	v.MakespanOverTStar, v.UploadUtilization, v.TailRatio, v.SeederUploadOverF, v.CPUNsPerByte = 1.03, 0.95, 1.05, 1.02, 3
	v.MakespanS, v.TStarS, v.AllVerified, v.Storage = 16.8, 16.31, true, storageMemory
	return v
}

// referenceOnDiskAt is the reference-disk variant's result: 1.10 x T*, utilization 0.88, 1 run.
func referenceOnDiskAt() *variantResult {
	v := &variantResult{Name: referenceDiskVariant, Peers: 50, Repetitions: make([]repetition, 1), Storage: storageDisk}
	v.MakespanOverTStar, v.MakespanS, v.UploadUtilization, v.AllVerified = 1.1, 17.94, 0.88, true
	return v
}

func statuses(gs []goal) map[string]string {
	m := make(map[string]string, len(gs))
	for _, g := range gs {
		m[g.What] = g.Status
	}
	return m
}

// A figure on its bound meets the goal; just past it does not; a run with a copy that did not
// verify meets nothing.
func TestReferenceGoalsAtTheirBounds(t *testing.T) {
	for what, st := range statuses(referenceGoals(referenceAt())) {
		if st != statusMet {
			t.Errorf("%s on its bound: %s, want met", what, st)
		}
	}
	past := []func(v *variantResult){
		func(v *variantResult) { v.MakespanOverTStar = 1.0301 },
		func(v *variantResult) { v.UploadUtilization = 0.9499 },
		func(v *variantResult) { v.TailRatio = 1.0501 },
		func(v *variantResult) { v.SeederUploadOverF = 1.0201 },
		func(v *variantResult) { v.CPUNsPerByte = 3.01 },
	}
	for i, spoil := range past {
		v := referenceAt()
		spoil(v)
		gs := referenceGoals(v)
		for j, g := range gs {
			want := statusMet
			if i == j {
				want = statusNotMet
			}
			if g.Status != want {
				t.Errorf("figure %d past its bound: %s is %s, want %s (%s)", i, g.What, g.Status, want, g.Measured)
			}
		}
	}
	v := referenceAt()
	v.AllVerified = false
	for _, g := range referenceGoals(v) {
		if g.Status != statusNotMet || !strings.Contains(g.Measured, "not every copy verified") {
			t.Errorf("unverified run: %s %s (%s), want not met and said why", g.What, g.Status, g.Measured)
		}
	}
	if gs := referenceGoals(nil); gs[0].Status != statusNotMeasured || len(gs) != len(referenceChecks) {
		t.Errorf("no reference: %+v, want every goal not measured", gs)
	}
}

// The reference's makespan says where its files were.
func TestReferenceGoalsSayWhereTheFilesWere(t *testing.T) {
	if g := referenceGoals(referenceAt())[0]; !strings.Contains(g.Measured, "1.030 (16.80 s, T* 16.31 s, files in memory)") {
		t.Errorf("in memory measured as %q", g.Measured)
	}
	v := referenceAt()
	v.Storage = storageDisk
	if g := referenceGoals(v)[0]; !strings.Contains(g.Measured, "T* 16.31 s, files on disk)") {
		t.Errorf("on disk measured as %q", g.Measured)
	}
	v.Storage = "" // results from before the lab recorded it
	if g := referenceGoals(v)[0]; !strings.Contains(g.Measured, "T* 16.31 s)") {
		t.Errorf("unrecorded storage measured as %q", g.Measured)
	}
}

// The reference on disk is reported, never judged: its makespan / T* and utilization.
func TestReferenceDiskGoal(t *testing.T) {
	g := referenceDiskGoal(referenceOnDiskAt())
	want := goal{What: "reference on disk (variant reference-disk)", Target: "reported", Status: statusReported,
		Measured: "makespan/T* 1.100 (17.94 s), utilization 0.880 (1 run, files on disk)"}
	if g != want {
		t.Errorf("goal %+v, want %+v", g, want)
	}
	v := referenceOnDiskAt()
	v.AllVerified = false
	if g := referenceDiskGoal(v); g.Status != statusReported || !strings.HasSuffix(g.Measured, "; not every copy verified)") {
		t.Errorf("unverified: %+v, want reported and said why", g)
	}
	if g := referenceDiskGoal(nil); g.Status != statusNotMeasured {
		t.Errorf("no reference-disk: %+v, want not measured", g)
	}
}

// Fewer runs than the goals' median of 3 are said so.
func TestReferenceGoalsNameTheirRepetitions(t *testing.T) {
	v := referenceAt()
	v.Repetitions = v.Repetitions[:1]
	if g := referenceGoals(v)[0]; !strings.Contains(g.Measured, "1 run; the goal is a median of 3") {
		t.Errorf("one run measured as %q", g.Measured)
	}
}

func TestUncappedGoals(t *testing.T) {
	mb := &variantResult{Name: uncappedVariant, Peers: 8, Repetitions: make([]repetition, 1)}
	mb.GoodputBps, mb.MakespanS, mb.AllVerified, mb.CPUNsPerByte = 2.3e9, 0.93, true, 2.5
	lt := &variantResult{Name: libtorrentVariant, Peers: 8}
	lt.GoodputBps, lt.AllVerified = 1e9, true
	got := statuses(uncappedGoals(mb, lt))
	want := map[string]string{"uncapped 8 x 256 MiB goodput to durable copies": statusMet,
		"uncapped goodput / libtorrent's, same run": statusMet, "uncapped CPU per delivered byte": statusReported}
	for what, st := range want {
		if got[what] != st {
			t.Errorf("%s: %s, want %s", what, got[what], st)
		}
	}
	lt.GoodputBps = 1.0001e9 // the ratio just under 2.3
	mb.GoodputBps = 1.0999e9 // just under 1.1 GB/s
	lt.GoodputBps = mb.GoodputBps / 2.2999
	got = statuses(uncappedGoals(mb, lt))
	if got["uncapped 8 x 256 MiB goodput to durable copies"] != statusNotMet || got["uncapped goodput / libtorrent's, same run"] != statusNotMet {
		t.Errorf("under both bounds: %v", got)
	}
	// Without the libtorrent variant the comparison is not measured; the rest still is.
	got = statuses(uncappedGoals(mb, nil))
	if got["uncapped goodput / libtorrent's, same run"] != statusNotMeasured || got["uncapped CPU per delivered byte"] != statusReported {
		t.Errorf("without libtorrent: %v", got)
	}
}

// scaleVariants has makespans a + b log2 N (b s per doubling) at N = 125 to 1000.
func scaleVariants(a, b float64) []variantResult {
	var vs []variantResult
	for _, n := range scaleLeechers {
		v := variantResult{Peers: n, Repetitions: make([]repetition, 1)}
		v.MakespanS, v.AllVerified = a+b*math.Log2(float64(n)), true
		v.TStarS = 42.67 * (1 + math.Floor(math.Log2(float64(n)))/64)
		v.MakespanOverTStar = v.MakespanS / v.TStarS
		vs = append(vs, v)
	}
	return vs
}

func TestScaleGrowth(t *testing.T) {
	vs := scaleVariants(40, 1)
	a, b := fitLog2(vs)
	if math.Abs(a-40) > 1e-9 || math.Abs(b-1) > 1e-9 {
		t.Errorf("fit %v + %v log2 N, want 40 + 1 log2 N", a, b)
	}
	if g := growthGoal("growth", vs); g.Status != statusMet {
		t.Errorf("makespan 40 + log2 N: %s (%s), want met", g.Status, g.Measured)
	}
	// Pure log2 N (a = 0) is the bound itself.
	if g := growthGoal("growth", scaleVariants(0, 5)); g.Status != statusMet {
		t.Errorf("makespan 5 log2 N: %s (%s), want met", g.Status, g.Measured)
	}
	// Growing with N, as client-server does, is not.
	linear := scaleVariants(0, 0)
	for i := range linear {
		linear[i].MakespanS = 10 + float64(linear[i].Peers)/100
	}
	if g := growthGoal("growth", linear); g.Status != statusNotMet {
		t.Errorf("makespan 10 + N/100: %s (%s), want not met", g.Status, g.Measured)
	}
	if g := growthGoal("growth", linear[:1]); g.Status != statusNotMeasured {
		t.Errorf("one N: %s, want not measured", g.Status)
	}
}

func TestScaleGoals(t *testing.T) {
	vs := scaleVariants(40, 0.5) // N = 1000: 44.98 s against T* 48.67 s
	top := &vs[len(vs)-1]
	top.TrackerRSSPeakBytes, top.TrackerRSSIdleBytes, top.MemPerPeerBytes, top.MemPeakBytes = 50*mib, 14*mib, 800*kib, 900*mib
	res := &scenarioResult{Scenario: scaleScenario, Variants: vs}
	got := scaleGoals(res)
	if len(got) != 3 || got[0].Status != statusMet || got[1].Status != statusMet || got[2].Status != statusReported {
		t.Fatalf("goals %+v", got)
	}
	if !strings.Contains(got[2].Measured, "tracker 50.0 MiB peak RSS (14.0 MiB idle); a peer 800 KiB") {
		t.Errorf("memory measured as %q", got[2].Measured)
	}
	top.MakespanOverTStar = 1.1001
	if g := scaleGoals(res)[0]; g.Status != statusNotMet {
		t.Errorf("1.1001 x T*: %s, want not met", g.Status)
	}
	if gs := scaleGoals(nil); gs[0].Status != statusNotMeasured {
		t.Errorf("no scale scenario: %+v", gs)
	}
}

// The report names every goal once, with its status, whatever the results at hand.
func TestWriteGoals(t *testing.T) {
	results := map[string]*scenarioResult{"reference": {Scenario: "reference", Date: "today",
		Variants: []variantResult{*referenceAt()}}}
	var b bytes.Buffer
	if err := writeGoals(&b, results); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "| met | |"); n != len(referenceChecks) {
		t.Errorf("%d goals met, want the %d of the reference:\n%s", n, len(referenceChecks), out)
	}
	if n := strings.Count(out, "| not measured | |"); n != 7 {
		t.Errorf("%d goals not measured, want 7 (reference on disk, uncapped and scale):\n%s", n, out)
	}
	if !strings.Contains(out, "reference: today.") {
		t.Errorf("the date of the results is missing:\n%s", out)
	}
	// With reference-disk, its line follows the reference's goals, reported.
	results["reference"].Variants = append(results["reference"].Variants, *referenceOnDiskAt())
	b.Reset()
	if err := writeGoals(&b, results); err != nil {
		t.Fatal(err)
	}
	out = b.String()
	line := "| reference CPU per delivered byte (capped) | <= 3 ns/B | 3.00 ns/B (median of 3) | met | |\n" +
		"| reference on disk (variant reference-disk) | reported | makespan/T* 1.100 (17.94 s), utilization 0.880 (1 run, files on disk) | reported | |\n"
	if !strings.Contains(out, line) || strings.Count(out, "| not measured | |") != 6 {
		t.Errorf("the reference on disk is not reported after the reference's goals:\n%s", out)
	}
	// A goal not met points to where the docs say what limits it, with its profile.
	slow := referenceAt()
	slow.CPUNsPerByte = 7
	results["reference"].Variants[0] = *slow
	b.Reset()
	if err := writeGoals(&b, results); err != nil {
		t.Fatal(err)
	}
	line = "| reference CPU per delivered byte (capped) | <= 3 ns/B | 7.00 ns/B (median of 3) | not met | " + limitCPU + " |\n"
	if out = b.String(); !strings.Contains(out, line) {
		t.Errorf("a goal not met without what limits it:\n%s", out)
	}
}
