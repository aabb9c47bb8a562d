package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// clientLibtorrent is swarmSpec.Client for a swarm of libtorrent 2.0 peers (libtorrent.py)
// instead of MiniBit sessions, measured the same way.
const clientLibtorrent = "libtorrent"

// libtorrentScript runs the swarm: every peer an lt.session in one Python process; it prints
// the peers' counters every 100 ms as JSON lines (its doc string describes them).
//
//go:embed libtorrent.py
var libtorrentScript []byte

// libtorrentPython is Debian's interpreter, for which python3-libtorrent is installed
// (hack/test-deps.sh). A variable for the test of a machine without it.
var libtorrentPython = "/usr/bin/python3"

// libtorrentSetup bounds what the script does before the clock starts: Python's start, the
// seeder's check of its payload, creating the leechers' sessions.
const libtorrentSetup = time.Minute

// libtorrentMissingExit is the script's exit status when Python has no libtorrent module.
const libtorrentMissingExit = 3

// errLibtorrentMissing is returned by a libtorrent swarm on a machine without libtorrent.
var errLibtorrentMissing = errors.New("python3-libtorrent is not installed (`make test-deps` or `apt-get install python3-libtorrent`)")

// libtorrentChecks caches libtorrentMissing's answer per interpreter.
var libtorrentChecks sync.Map // interpreter path -> string

// libtorrentMissing says why libtorrent swarms cannot run here ("" when they can).
func libtorrentMissing() string {
	if why, ok := libtorrentChecks.Load(libtorrentPython); ok {
		return why.(string)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	why := ""
	if out, err := exec.CommandContext(ctx, libtorrentPython, "-I", "-c", "import libtorrent").CombinedOutput(); err != nil {
		why = fmt.Sprintf("%v: %s %v: %s", errLibtorrentMissing, libtorrentPython, err, tail(out, 200))
	}
	libtorrentChecks.Store(libtorrentPython, why)
	return why
}

// unavailable says why spec cannot run on this machine ("" when it can).
func (s swarmSpec) unavailable() string {
	if s.Client == clientLibtorrent {
		return libtorrentMissing()
	}
	return ""
}

// libtorrentConfig is the script's input (its doc string describes each field).
type libtorrentConfig struct {
	Torrent     string   `json:"torrent"`
	Tracker     string   `json:"tracker"`
	SeederDir   string   `json:"seeder_dir"`
	SeederCap   int64    `json:"seeder_cap"`
	LeecherDirs []string `json:"leecher_dirs"`
	LeecherCaps []int64  `json:"leecher_caps"`
	SuperSeed   bool     `json:"super_seed"`
	TimeoutS    float64  `json:"timeout"`
}

// checkLibtorrentSpec refuses what the libtorrent runner does not emulate.
func checkLibtorrentSpec(s swarmSpec) error {
	switch {
	case s.ClientServer, s.FreeRiders > 0, len(s.KillAt) > 0, s.KillTrackerAt > 0, s.SeederLeaves, s.TrackerProcess:
		return errors.New("libtorrent swarms have no client-server, free-riders, faults, leaving seeder or tracker process")
	case s.PieceStrategy != "", s.Choker != (swarmSpec{}).Choker, s.ChokeInterval != 0:
		return errors.New("libtorrent swarms keep libtorrent's own piece picker and choker")
	}
	return nil
}

// runLibtorrent runs the swarm's peers as libtorrent sessions (sw's tracker and directory,
// sw.src as the seeder's payload) and returns the same record as a MiniBit swarm's. The
// directory and the payload are where the variant's storage put them (workDirs.place), in
// memory or on disk, as for MiniBit's sessions, so that the two compare on the same storage.
func (sw *swarm) runLibtorrent(ctx context.Context) (*runRecord, error) {
	if err := checkLibtorrentSpec(sw.spec); err != nil {
		return nil, err
	}
	script, cfg, err := sw.writeLibtorrentInputs()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, sw.spec.Timeout+libtorrentSetup)
	defer cancel()
	cmd := exec.CommandContext(ctx, libtorrentPython, "-I", "-X", "faulthandler", script, cfg)
	stderr := &tailBuffer{limit: 16 << 10}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("libtorrent: %w", err)
	}
	run := newLibtorrentRun(sw.spec, sw.src.meta.NumPieces())
	readErr := run.read(stdout)
	if readErr != nil {
		cancel() // stop a script whose output is no longer read
	}
	waitErr := cmd.Wait()
	if err := libtorrentOutcome(run, readErr, waitErr, stderr); err != nil {
		return nil, err
	}
	rec := run.rec
	rec.AllVerified = verifyCopies(rec, sw.src.sha256, sw.libtorrentCopy)
	return rec, nil
}

// libtorrentOutcome is the error of a libtorrent run, if any: its output's, or its exit's with
// the end of its stderr.
func libtorrentOutcome(run *libtorrentRun, readErr, waitErr error, stderr *tailBuffer) error {
	var exit *exec.ExitError
	switch {
	case errors.As(waitErr, &exit) && exit.ExitCode() == libtorrentMissingExit:
		return errLibtorrentMissing
	case readErr != nil:
		return fmt.Errorf("libtorrent: %w; stderr: %s", readErr, stderr)
	case !run.ended:
		exit := "exit status 0"
		if waitErr != nil {
			exit = waitErr.Error()
		}
		return fmt.Errorf("libtorrent ended before its last line (%s; started %v, last sample at %.1f s); stderr: %s",
			exit, run.started, run.sampleT, stderr)
	}
	return nil // a timed-out run exits 2 after its "end" line: rec.TimedOut says so
}

// libtorrentCopy is leecher i's (1-based) copy.
func (sw *swarm) libtorrentCopy(i int) string {
	return filepath.Join(sw.libtorrentLeecherDir(i-1), sw.src.meta.Info.Name)
}

func (sw *swarm) libtorrentLeecherDir(i int) string {
	return filepath.Join(sw.dir, fmt.Sprintf("leecher-%03d", i))
}

// writeLibtorrentInputs writes the script, the torrent and the config into the run's directory
// and makes each leecher's.
func (sw *swarm) writeLibtorrentInputs() (script, config string, err error) {
	torrent, err := sw.src.meta.Encode()
	if err != nil {
		return "", "", err
	}
	cfg := libtorrentConfig{Torrent: filepath.Join(sw.dir, "swarm.torrent"), Tracker: sw.tracker.url + "/announce",
		SeederDir: filepath.Dir(sw.src.path), SeederCap: sw.spec.seederCap(), SuperSeed: sw.spec.SuperSeed,
		TimeoutS: sw.spec.Timeout.Seconds()}
	for i := range sw.spec.Leechers {
		dir := sw.libtorrentLeecherDir(i)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "", "", err
		}
		cfg.LeecherDirs = append(cfg.LeecherDirs, dir)
		cfg.LeecherCaps = append(cfg.LeecherCaps, sw.spec.leecherCap(i))
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return "", "", err
	}
	// Not named libtorrent.py: Python would import the script itself as the module.
	script, config = filepath.Join(sw.dir, "lab_swarm.py"), filepath.Join(sw.dir, "swarm.json")
	for path, b := range map[string][]byte{cfg.Torrent: torrent, script: libtorrentScript, config: data} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return "", "", err
		}
	}
	return script, config, nil
}

// read feeds every line of the script's output to the run, up to its "end" line or the first
// bad one.
func (r *libtorrentRun) read(out io.Reader) error {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, min(64<<10, r.maxLine())), r.maxLine())
	for n := 1; sc.Scan(); n++ {
		if err := r.handle(sc.Bytes()); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if r.ended {
			_, _ = io.Copy(io.Discard, out) // nothing follows "end"; let the script exit
			return nil
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return fmt.Errorf("a line longer than %d bytes", r.maxLine())
	}
	return sc.Err()
}

// tailBuffer keeps the last max bytes written to it (a child's stderr, for error messages).
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	b     []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = tail(append(t.b, p...), t.limit)
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// tail is the last limit bytes of b.
func tail(b []byte, limit int) []byte {
	if len(b) > limit {
		return b[len(b)-limit:]
	}
	return b
}

// libtorrentLine is one line of the script's output: exactly one of start, a sample (t, cpu_ns,
// peers), done (with t and verified_t), end (with cpu_ns) or error.
type libtorrentLine struct {
	Start     bool                `json:"start"`
	T         *float64            `json:"t"`
	CPUNs     *int64              `json:"cpu_ns"`
	Peers     []libtorrentCounter `json:"peers"`
	Done      *int                `json:"done"`
	VerifiedT *float64            `json:"verified_t"`
	End       *float64            `json:"end"`
	Error     string              `json:"error"`
}

// libtorrentCounter is one peer's counters in a sample: payload bytes uploaded and downloaded,
// pieces held and, when that count changed, the bitfield in hex.
type libtorrentCounter struct {
	Up     int64  `json:"u"`
	Down   int64  `json:"d"`
	Pieces int    `json:"p"`
	Bits   string `json:"b"`
}

// libtorrentRun turns the script's lines into a runRecord as they come.
type libtorrentRun struct {
	spec      swarmSpec
	numPieces int
	rec       *runRecord
	bitfields []wire.Bitfield // each peer's latest
	started   bool
	ended     bool
	sampleT   float64 // the latest sample's time
	lastUp    int64
	cpuNs     int64
	cpu0      cpuReading // the lab's, at the start line
}

func newLibtorrentRun(spec swarmSpec, numPieces int) *libtorrentRun {
	r := &libtorrentRun{spec: spec, numPieces: numPieces, bitfields: make([]wire.Bitfield, spec.Leechers+1),
		rec: &runRecord{Peers: make([]peerRecord, spec.Leechers+1), SeederUpAtAllExist: -1}}
	r.rec.Peers[0] = peerRecord{Index: 0, Role: "seeder", CapBps: spec.seederCap()}
	for i := range spec.Leechers {
		r.rec.Peers[i+1] = peerRecord{Index: i + 1, Role: spec.leecherRole(i), CapBps: spec.leecherCap(i)}
	}
	for i := range r.bitfields {
		r.bitfields[i] = wire.NewBitfield(numPieces)
	}
	return r
}

// maxLine bounds a line: a sample with every peer's bitfield and large counters.
func (r *libtorrentRun) maxLine() int {
	return (r.spec.Leechers+1)*((r.numPieces+7)/8*2+128) + 4096
}

// handle takes one line.
func (r *libtorrentRun) handle(line []byte) error {
	var l libtorrentLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return fmt.Errorf("not a line of the script (%w): %.120q", err, line)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("more than one JSON value: %.120q", line)
	}
	switch {
	case l.Error != "":
		return fmt.Errorf("libtorrent: %s", l.Error)
	case l.Start:
		return r.start()
	case !r.started:
		return fmt.Errorf("a line before the start: %.120q", line)
	case l.Done != nil:
		return r.done(*l.Done, l.T, l.VerifiedT)
	case l.End != nil:
		return r.end(*l.End, l.CPUNs)
	case l.Peers != nil:
		return r.sample(l.T, l.CPUNs, l.Peers)
	}
	return fmt.Errorf("a line of no known kind: %.120q", line)
}

func (r *libtorrentRun) start() error {
	if r.started {
		return errors.New("a second start")
	}
	r.started, r.cpu0 = true, readCPU()
	return nil
}

// checkTime accepts a time since the start within the run's bounds and not before after
// (samples follow each other; a leecher's done line may come from another thread).
func (r *libtorrentRun) checkTime(t *float64, after float64, what string) error {
	switch {
	case t == nil:
		return fmt.Errorf("%s without a time", what)
	case *t < after || *t > 2*r.spec.Timeout.Seconds()+60:
		return fmt.Errorf("%s at %v s, not after %v s and within a run of at most %v", what, *t, after, r.spec.Timeout)
	}
	return nil
}

func (r *libtorrentRun) checkCPU(ns *int64) error {
	if ns == nil || *ns < r.cpuNs {
		return fmt.Errorf("CPU time missing or going back (%v ns after %d)", ns, r.cpuNs)
	}
	r.cpuNs = *ns
	return nil
}

// done records leecher i's completion: verified when its last piece passed, done once synced.
func (r *libtorrentRun) done(i int, t, verified *float64) error {
	if i < 1 || i > r.spec.Leechers || r.rec.Peers[i].DoneS > 0 {
		return fmt.Errorf("done for leecher %d: not one of 1 to %d still downloading", i, r.spec.Leechers)
	}
	if err := r.checkTime(t, 0, "done"); err != nil {
		return err
	}
	if verified == nil || *verified < 0 || *verified > *t {
		return fmt.Errorf("leecher %d verified at %v, done at %v s", i, verified, *t)
	}
	r.rec.Peers[i].DoneS, r.rec.Peers[i].VerifiedS = max(*t, 1e-9), *verified
	return nil
}

// end closes the run: its CPU figures, and whether every leecher finished in time.
func (r *libtorrentRun) end(t float64, cpuNs *int64) error {
	if err := r.checkTime(&t, r.sampleT, "end"); err != nil {
		return err
	}
	if err := r.checkCPU(cpuNs); err != nil {
		return err
	}
	r.ended = true
	r.rec.CPUSelf = time.Duration(r.cpuNs)
	r.rec.CPU = readCPU().since(r.cpu0)
	r.rec.CPU.SelfCores = 0
	if t > 0 {
		r.rec.CPU.SelfCores = r.rec.CPUSelf.Seconds() / t
	}
	for _, p := range r.rec.Peers[1:] {
		r.rec.TimedOut = r.rec.TimedOut || p.DoneS == 0
	}
	return nil
}

// sample records every peer's counters and the swarm's availability at t.
func (r *libtorrentRun) sample(t *float64, cpuNs *int64, peers []libtorrentCounter) error {
	if len(peers) != len(r.rec.Peers) {
		return fmt.Errorf("a sample of %d peers, want %d", len(peers), len(r.rec.Peers))
	}
	if err := r.checkTime(t, r.sampleT, "sample"); err != nil {
		return err
	}
	if err := r.checkCPU(cpuNs); err != nil {
		return err
	}
	var totalUp int64
	var capSum float64
	for i, c := range peers {
		if err := r.takeCounter(i, c, *t); err != nil {
			return fmt.Errorf("peer %d: %w", i, err)
		}
		totalUp += c.Up
		if i == 0 || r.rec.Peers[i].DoneS == 0 {
			capSum += float64(r.rec.Peers[i].CapBps)
		}
	}
	r.noteAvailability(*t, totalUp, capSum)
	return nil
}

// takeCounter checks and records peer i's counters.
func (r *libtorrentRun) takeCounter(i int, c libtorrentCounter, t float64) error {
	if c.Up < 0 || c.Down < 0 || c.Pieces < 0 || c.Pieces > r.numPieces {
		return fmt.Errorf("counters %+v out of range (%d pieces)", c, r.numPieces)
	}
	if c.Bits != "" {
		raw, err := hex.DecodeString(c.Bits)
		if err != nil {
			return fmt.Errorf("bitfield: %w", err)
		}
		if r.bitfields[i], err = wire.ParseBitfield(raw, r.numPieces); err != nil {
			return err
		}
	}
	p := &r.rec.Peers[i]
	p.Samples = append(p.Samples, sample{T: t, Down: c.Down, Up: c.Up, Pieces: c.Pieces})
	p.Up, p.Down = c.Up, c.Down
	return nil
}

// noteAvailability adds the swarm's sample and, the first time every piece exists at some
// uploading leecher, the seeder's upload then.
func (r *libtorrentRun) noteAvailability(t float64, totalUp int64, capSum float64) {
	avail, atLeechers := make([]int, r.numPieces), make([]bool, r.numPieces)
	for i, bf := range r.bitfields {
		countPieces(bf, avail, atLeechers, i > 0 && r.rec.Peers[i].Role != "free-rider")
	}
	lo, mean := minMean(avail)
	var rate float64
	if t > r.sampleT {
		rate = float64(totalUp-r.lastUp) / (t - r.sampleT)
	}
	r.rec.Swarm = append(r.rec.Swarm, swarmSample{T: t, MinAvailability: lo, MeanAvailability: mean, UploadBps: rate, CapBps: capSum})
	r.lastUp, r.sampleT = totalUp, t
	if r.rec.SeederUpAtAllExist < 0 && !slices.Contains(atLeechers, false) {
		r.rec.SeederUpAtAllExist = r.rec.Peers[0].Up
		r.rec.Events = append(r.rec.Events, "every piece exists at some leecher")
	}
}
