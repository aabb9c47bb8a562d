package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// runLibtorrentSwarm runs spec (as a libtorrent swarm) once on a fresh payload.
func runLibtorrentSwarm(t *testing.T, spec swarmSpec) *runRecord {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a libtorrent swarm")
	}
	spec.Client = clientLibtorrent
	if why := spec.unavailable(); why != "" {
		t.Fatal(why) // CI installs it (hack/test-deps.sh)
	}
	src, err := makeSource(t.TempDir(), spec.Size, spec.PieceSize, 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := runSwarm(context.Background(), spec, src, t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// A small capped libtorrent swarm runs through the lab: every copy complete and verified, the
// 100 ms samples and the figures there as for MiniBit.
func TestLibtorrentSwarmVerifiesEveryCopy(t *testing.T) {
	spec := swarmSpec{Leechers: 3, Size: 2 << 20, PieceSize: 64 << 10, UploadCap: 4 << 20, SuperSeed: true, Timeout: 3 * time.Minute}
	rec := runLibtorrentSwarm(t, spec)
	if !rec.AllVerified || rec.TimedOut {
		t.Fatalf("verified %v, timed out %v: want every copy verified; peers %+v", rec.AllVerified, rec.TimedOut, rec.Peers)
	}
	for _, p := range rec.Peers[1:] {
		if p.VerifiedS <= 0 || p.VerifiedS > p.DoneS || p.Down < spec.Size || len(p.Samples) == 0 {
			t.Errorf("leecher %d: verified at %v s, done at %v s, %d bytes down, %d samples", p.Index, p.VerifiedS, p.DoneS, p.Down, len(p.Samples))
		}
		if last := p.Samples[len(p.Samples)-1]; last.Pieces != 32 {
			t.Errorf("leecher %d's last sample holds %d of 32 pieces", p.Index, last.Pieces)
		}
	}
	fg := computeFigures(spec, 32, rec)
	if fg.Completed != 3 || fg.SeederUploadOverF < 1 || fg.UploadUtilization <= 0 || fg.CPUNsPerByte <= 0 || fg.SelfCores <= 0 {
		t.Errorf("figures %+v: want 3 completed, the seeder's F at least, utilization and CPU", fg)
	}
	if len(rec.Swarm) == 0 || rec.Swarm[len(rec.Swarm)-1].MinAvailability < 4 {
		t.Errorf("swarm samples %d: want the last with every piece at all 4 peers", len(rec.Swarm))
	}
}

// libtorrent's local-network exemption is off: a seeder capped at 1 MiB/s uploads to its one
// leecher on 127.0.0.1 at 1 MiB/s, not at loopback speed.
func TestLibtorrentCapsLoopbackUploads(t *testing.T) {
	const capBps = 1 << 20
	spec := swarmSpec{Leechers: 1, Size: 3 << 20, PieceSize: 64 << 10, UploadCap: capBps, Timeout: 3 * time.Minute}
	rec := runLibtorrentSwarm(t, spec)
	if !rec.AllVerified {
		t.Fatalf("copy not verified: %+v", rec.Peers[1])
	}
	// The seeder's rate from its first byte to the leecher's last: over 2 s of 100 ms samples.
	seeder := rec.Peers[0]
	var first *sample
	for i := range seeder.Samples {
		if seeder.Samples[i].Up > 0 {
			first = &seeder.Samples[i]
			break
		}
	}
	if first == nil {
		t.Fatal("the seeder's samples never show an upload")
	}
	seconds := rec.Peers[1].VerifiedS - first.T
	rate := float64(spec.Size-first.Up) / seconds
	t.Logf("seeder: %.0f B/s over %.2f s (cap %d B/s)", rate, seconds, capBps)
	if rate > 1.1*capBps || rate < 0.5*capBps {
		t.Errorf("the seeder uploaded at %.0f B/s, want its cap %d B/s (+10 %%)", rate, capBps)
	}
}

// The script's output is checked line by line: a hostile or broken line ends the run with an
// error that says what was wrong.
func TestLibtorrentOutputRejectsBadLines(t *testing.T) {
	spec := swarmSpec{Leechers: 2, Size: 4 << 16, PieceSize: 1 << 16, Timeout: time.Minute}
	sampleOf := func(peers string) string { return `{"t":0.1,"cpu_ns":5,"peers":[` + peers + `]}` }
	ok := `{"u":1,"d":2,"p":1,"b":"80"}`
	cases := []struct{ name, line, want string }{
		{"not JSON", `seeding 6881`, "not a line of the script"},
		{"unknown field", `{"start":true,"rm":"-rf"}`, "unknown field"},
		{"two values", `{"start":true}{"start":true}`, "more than one JSON value"},
		{"no kind", `{}`, "no known kind"},
		{"script error", `{"error":"file error"}`, "libtorrent: file error"},
		{"wrong peer count", sampleOf(ok + "," + ok), "a sample of 2 peers, want 3"},
		{"negative counter", sampleOf(ok + "," + ok + `,{"u":-1,"d":0,"p":0}`), "peer 2: counters"},
		{"too many pieces", sampleOf(ok + "," + ok + `,{"u":0,"d":0,"p":5}`), "out of range (4 pieces)"},
		{"bad hex", sampleOf(ok + "," + ok + `,{"u":0,"d":0,"p":1,"b":"zz"}`), "bitfield"},
		{"long bitfield", sampleOf(ok + "," + ok + `,{"u":0,"d":0,"p":1,"b":"8000"}`), "bitfield of 2 bytes"},
		{"spare bits", sampleOf(ok + "," + ok + `,{"u":0,"d":0,"p":1,"b":"ff"}`), "spare bits"},
		{"no time", `{"cpu_ns":5,"peers":[` + ok + "," + ok + "," + ok + `]}`, "sample without a time"},
		{"time from the future", `{"t":1e300,"cpu_ns":5,"peers":[` + ok + "," + ok + "," + ok + `]}`, "within a run of at most"},
		{"done for nobody", `{"done":3,"t":1,"verified_t":1}`, "done for leecher 3"},
		{"done for the seeder", `{"done":0,"t":1,"verified_t":1}`, "done for leecher 0"},
		{"verified after done", `{"done":1,"t":1,"verified_t":2}`, "verified at"},
		{"end without CPU", `{"end":1}`, "CPU time missing"},
		{"second start", `{"start":true}`, "a second start"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := newLibtorrentRun(spec, 4)
			if err := run.handle([]byte(`{"start":true}`)); err != nil {
				t.Fatal(err)
			}
			err := run.handle([]byte(c.line))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("line %s: error %v, want one saying %q", c.line, err, c.want)
			}
		})
	}
}

// A line before the start, and one longer than any sample could be, are refused; the output
// must end with its "end" line.
func TestLibtorrentOutputFraming(t *testing.T) {
	spec := swarmSpec{Leechers: 1, Size: 1 << 16, PieceSize: 1 << 16, Timeout: time.Minute}
	run := newLibtorrentRun(spec, 1)
	if err := run.handle([]byte(`{"done":1,"t":1,"verified_t":1}`)); err == nil || !strings.Contains(err.Error(), "before the start") {
		t.Errorf("a done before the start: %v", err)
	}
	long := `{"start":true}` + "\n" + strings.Repeat(" ", run.maxLine()+1) + "\n"
	if err := newLibtorrentRun(spec, 1).read(strings.NewReader(long)); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("an endless line: %v", err)
	}
	good := `{"start":true}
{"t":0.1,"cpu_ns":1000,"peers":[{"u":65536,"d":0,"p":1,"b":"80"},{"u":0,"d":65536,"p":1,"b":"80"}]}
{"done":1,"t":0.15,"verified_t":0.12}
{"end":0.2,"cpu_ns":2000}
`
	run = newLibtorrentRun(spec, 1)
	if err := run.read(strings.NewReader(good)); err != nil || !run.ended {
		t.Fatalf("a good output: %v, ended %v", err, run.ended)
	}
	rec := run.rec
	if rec.Peers[1].DoneS != 0.15 || rec.Peers[1].VerifiedS != 0.12 || rec.CPUSelf != 2000 || rec.SeederUpAtAllExist != 65536 || rec.TimedOut {
		t.Errorf("record %+v", rec)
	}
	if err := libtorrentOutcome(newLibtorrentRun(spec, 1), nil, nil, &tailBuffer{limit: 10}); err == nil {
		t.Error("an output without its end line was taken")
	}
}

// Without libtorrent, a libtorrent variant is skipped with the reason, and the others run.
func TestLibtorrentVariantSkippedWhenMissing(t *testing.T) {
	saved := libtorrentPython
	libtorrentPython = "/nonexistent/python3"
	t.Cleanup(func() { libtorrentPython = saved })
	spec := swarmSpec{Leechers: 1, Size: 1 << 16, PieceSize: 1 << 16, Client: clientLibtorrent, Timeout: time.Minute}
	if why := spec.unavailable(); !strings.Contains(why, "python3-libtorrent is not installed") {
		t.Errorf("unavailable: %q", why)
	}
	sc := scenario{Name: "lt", Reps: 1, Primary: "libtorrent", Variants: []variant{{"libtorrent", spec}}}
	res, err := runScenario(context.Background(), sc, diskOnly(t), t.TempDir(), false, discardLogger())
	if err != nil || len(res.Skipped) != 1 || len(res.Variants) != 0 {
		t.Errorf("scenario: %v, skipped %q, ran %d variants", err, res.Skipped, len(res.Variants))
	}
}
