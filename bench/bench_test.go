package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTStarOfTheReferenceScenario(t *testing.T) {
	spec := referenceSpec()
	got := tStar(spec, int(spec.Size/spec.PieceSize))
	if want := 16 * (1 + 5.0/256); math.Abs(got-want) > 1e-9 {
		t.Errorf("T* = %v, want %v (16 s x (1 + 5/256))", got, want)
	}
	if got := fluidBound(spec); math.Abs(got-16) > 1e-9 {
		t.Errorf("fluid bound = %v, want 16 s", got)
	}
	spec.ClientServer = true
	if got := tStar(spec, 256); math.Abs(got-50*16) > 1e-9 {
		t.Errorf("client-server bound = %v, want N F / u_s = 800 s", got)
	}
	spec.UploadCap = 0
	if got := tStar(spec, 256); got != 0 {
		t.Errorf("uncapped T* = %v, want 0 (no bound)", got)
	}
}

// Free-riders add no capacity to the fluid bound; fast peers add theirs.
func TestFluidBoundCountsOnlyUploaders(t *testing.T) {
	spec := swarmSpec{Leechers: 4, Size: 8, UploadCap: 1, FreeRiders: 2}
	if got := fluidBound(spec); got != 4*8/3.0 {
		t.Errorf("fluid bound with 2 free-riders = %v, want N F / (u_s + 2u) = %v", got, 4*8/3.0)
	}
	spec = swarmSpec{Leechers: 4, Size: 8, UploadCap: 1, FastPeers: 2, FastCap: 4}
	if got := fluidBound(spec); got != 8 {
		t.Errorf("fluid bound with 2 fast peers = %v, want max(F/u_s, N F/11) = 8", got)
	}
}

func TestComputeFigures(t *testing.T) {
	spec := swarmSpec{Leechers: 2, Size: 100, PieceSize: 50, UploadCap: 10, Timeout: time.Minute}
	rec := &runRecord{
		Peers: []peerRecord{
			{Role: "seeder", CapBps: 10, Up: 150},
			{Role: "leecher", CapBps: 10, DoneS: 10, VerifiedS: 9, Down: 110, Up: 50, Verified: true},
			{Role: "leecher", CapBps: 10, DoneS: 20, VerifiedS: 16, Down: 100, Up: 10, Verified: true},
		},
		SeederUpAtAllExist: 105,
		AllVerified:        true,
		CPUSelf:            420 * time.Nanosecond,
		Memory:             memoryUse{BaselineBytes: 100, PeakBytes: 400},
	}
	fg := computeFigures(spec, 2, rec)
	check := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("makespan", fg.MakespanS, 20)
	check("median", fg.MedianS, 15)
	check("tail", fg.TailRatio, 20.0/15)
	check("utilization", fg.UploadUtilization, 210.0/(30*20))
	check("seeder/F", fg.SeederUploadOverF, 1.05)
	check("dup", fg.EndgameDupRatio, 10.0/200)
	check("goodput", fg.GoodputBps, 200.0/20)
	check("verified goodput", fg.VerifiedGoodputBps, 200.0/16)
	check("CPU per delivered byte", fg.CPUNsPerByte, 420.0/200)
	check("memory per peer", fg.MemPerPeerBytes, 300.0/3)
	if !fg.AllVerified || fg.Completed != 2 {
		t.Errorf("verified %v, completed %d", fg.AllVerified, fg.Completed)
	}
}

// The free-riders' progress is read at the compliant median from their 100 ms samples.
func TestFreeRiderProgressAtCompliantMedian(t *testing.T) {
	spec := swarmSpec{Leechers: 3, FreeRiders: 1, Size: 100, PieceSize: 10, UploadCap: 10, Timeout: time.Minute}
	rider := peerRecord{Role: "free-rider", DoneS: 30, Samples: []sample{{T: 5, Pieces: 2}, {T: 10, Pieces: 3}, {T: 11, Pieces: 6}}}
	rec := &runRecord{Peers: []peerRecord{
		{Role: "seeder"},
		{Role: "leecher", DoneS: 9},
		{Role: "leecher", DoneS: 11},
		rider,
	}}
	fg := computeFigures(spec, 10, rec)
	if fg.CompliantMedianS != 10 || fg.FreeRiderMedianS != 30 {
		t.Fatalf("medians: compliant %v, free-rider %v; want 10 and 30", fg.CompliantMedianS, fg.FreeRiderMedianS)
	}
	if fg.FreeRiderProgressAtCompliantMedian != 0.3 {
		t.Errorf("free-rider progress at 10 s = %v, want 0.3 (3 of 10 pieces)", fg.FreeRiderProgressAtCompliantMedian)
	}
}

func TestMedianFigures(t *testing.T) {
	runs := []figures{{MakespanS: 3, AllVerified: true}, {MakespanS: 1, AllVerified: true, CPUBound: true}, {MakespanS: 2, AllVerified: false}}
	// The median of each number; verified only if every run was, CPU-bound if any run was.
	if diff := cmp.Diff(figures{MakespanS: 2, AllVerified: false, CPUBound: true}, medianFigures(runs), cmp.AllowUnexported(figures{})); diff != "" {
		t.Errorf("median figures mismatch (-want +got):\n%s", diff)
	}
	if s := spread(runs); s != [2]float64{1, 3} {
		t.Errorf("spread %v, want [1 3]", s)
	}
	if i := medianIndex(runs); runs[i].MakespanS != 2 {
		t.Errorf("median run %d has makespan %v", i, runs[i].MakespanS)
	}
}

// diskOnly places runs in a fresh temporary directory, with no tmpfs for those asking for
// memory (they fall back to it).
func diskOnly(t *testing.T) workDirs {
	return workDirs{disk: t.TempDir(), shm: filepath.Join(t.TempDir(), "no-shm")}
}

// A small swarm runs end to end on the real engine: every copy verified, the JSON has the
// issue's fields, the plots are written. Its primary variant asks for memory where there is no
// tmpfs: it runs on disk, and the JSON and the table say so.
func TestSmallScenarioEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a swarm")
	}
	spec := swarmSpec{Leechers: 3, Size: 1 << 20, PieceSize: 64 << 10, UploadCap: 8 << 20, FreeRiders: 1,
		SuperSeed: true, SeederLeaves: true, Timeout: time.Minute}
	inMemory := spec
	inMemory.Storage = storageMemory
	sc := scenario{Name: "small", Reps: 1, Primary: "a", Variants: []variant{{"a", inMemory}, {"b", plainSeeder(spec)}}}
	out := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	work := diskOnly(t)
	if tmpfs, err := isTmpfs(work.disk); err != nil || tmpfs {
		t.Skipf("the temporary directory is a tmpfs (%v): no run can be on disk", err)
	}
	res, err := runScenario(context.Background(), sc, work, out, true, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeResult(out, res); err != nil {
		t.Fatal(err)
	}
	if !res.AllVerified || res.Completed != 3 || res.MakespanS <= 0 {
		t.Fatalf("figures %+v: want 3 verified copies", res.figures)
	}
	a, b := res.Variants[0], res.Variants[1]
	if a.Storage != storageDisk || !strings.Contains(a.StorageNote, "memory asked for, on disk: "+work.shm+" does not exist") ||
		b.Storage != storageDisk || b.StorageNote != "" || res.Storage != storageDisk {
		t.Errorf("storage: a %q (%q), b %q (%q), primary %q; want both on disk, a saying why", a.Storage, a.StorageNote,
			b.Storage, b.StorageNote, res.Storage)
	}
	data, err := os.ReadFile(filepath.Join(out, "small.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scenario", "peers", "size_bytes", "piece_size", "upload_cap_bytes_per_s", "makespan_s",
		"t_star_s", "makespan_over_t_star", "median_s", "tail_ratio", "upload_utilization", "seeder_upload_over_f",
		"endgame_dup_ratio", "goodput_bytes_per_s", "all_verified", "cpu_bound", "storage", "variants"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("the JSON lacks %q", k)
		}
	}
	if v := fields["variants"].([]any)[0].(map[string]any); v["storage"] != storageDisk || v["storage_note"] == nil {
		t.Errorf("the JSON's variant a: storage %v, note %v", v["storage"], v["storage_note"])
	}
	for _, f := range []string{"small.md", "small-a.svg", "small-compare.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if md, err := os.ReadFile(filepath.Join(out, "small.md")); err != nil || !strings.Contains(string(md), "| a | disk (note) | 3 |") ||
		!strings.Contains(string(md), "| b | disk | 3 |") || !strings.Contains(string(md), "- Note on a's files: memory asked for, on disk") {
		t.Errorf("the table does not show where the files were (%v):\n%s", err, md)
	}
	var series seriesFile
	if data, err := os.ReadFile(filepath.Join(out, "small-a-series.json")); err != nil {
		t.Error(err)
	} else if err := json.Unmarshal(data, &series); err != nil || len(series.Peers) != 4 || len(series.Swarm) == 0 ||
		len(series.Peers[1].Samples) == 0 {
		t.Errorf("series: %v, %d peers, %d swarm samples: want 4 peers with samples", err, len(series.Peers), len(series.Swarm))
	}
	if err := writeReport(out, io.Discard); err != nil {
		t.Fatal(err)
	}
}

// The warm-up leaves nothing behind and reports a directory it cannot write.
func TestWarmPageCache(t *testing.T) {
	dir := t.TempDir()
	if err := warmPageCache(dir, 3<<20); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left %d files behind", len(left))
	}
	if err := warmPageCache(filepath.Join(dir, "missing"), 1); err == nil {
		t.Error("no error for a directory that does not exist")
	}
}

// A scale-shaped scenario runs end to end: each session on its own loopback address, the
// tracker in a child process; its memory and CPU per byte are measured, the log N figure drawn
// and the goals read from its results.
func TestScaleShapedScenarioEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs swarms")
	}
	spec := func(n int) swarmSpec {
		return swarmSpec{Leechers: n, Size: 256 << 10, PieceSize: 16 << 10, UploadCap: 4 << 20, SuperSeed: true,
			MaxPeers: 3, OwnAddresses: true, TrackerProcess: true, Timeout: time.Minute}
	}
	sc := scenario{Name: scaleScenario, Reps: 1, Primary: "n4", Variants: []variant{{"n2", spec(2)}, {"n4", spec(4)}}}
	out := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	res, err := runScenario(context.Background(), sc, diskOnly(t), out, false, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeResult(out, res); err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Variants {
		if !v.AllVerified || v.CPUNsPerByte <= 0 || v.MemPerPeerBytes <= 0 || v.TrackerRSSPeakBytes <= 0 ||
			v.StacksPeakBytes <= 0 || v.GoroutinesPeak <= 0 {
			t.Errorf("%s: verified %v, %.1f ns/B, %.0f B per peer, tracker %.0f B, stacks %.0f B of %.0f goroutines: want verified copies and every figure",
				v.Name, v.AllVerified, v.CPUNsPerByte, v.MemPerPeerBytes, v.TrackerRSSPeakBytes, v.StacksPeakBytes, v.GoroutinesPeak)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "scale-log-n.svg")); err != nil {
		t.Error(err)
	}
	var stdout strings.Builder
	if err := writeReport(out, &stdout); err != nil {
		t.Fatal(err)
	}
	// No variant has N = 1000: the scale goals are not measured, but the growth is.
	if !strings.Contains(stdout.String(), "from N = 2 to 4") {
		t.Errorf("goals without the growth from N = 2 to 4:\n%s", stdout.String())
	}
}
