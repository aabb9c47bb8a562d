package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

const (
	swarmName = "demo"
	fileName  = "demo.bin" // the payload of --payload file
	treeName  = "demo"     // the directory of --payload tree and sparse

	payloadFile   = "file"
	payloadTree   = "tree"
	payloadSparse = "sparse"
)

// payloadName is the name of the seeder's file or directory, and of each leecher's copy.
func (c config) payloadName() string {
	if c.payload == payloadFile || c.payload == "" {
		return fileName
	}
	return treeName
}

// swarm owns the demo's processes.
type swarm struct {
	cfg     config
	bin     string
	work    string
	tracker string
	pace    pacing // zero without --watch
	procs   []*proc
	mu      sync.Mutex // guards procs
}

// leecher is one downloading peer. Its outcome (ended, err) is written by its own await
// goroutine and read by the progress display meanwhile, hence mu.
type leecher struct {
	name    string
	dir     string
	proc    *proc
	started time.Time

	mu    sync.Mutex
	ended time.Time // when its verified copy was in place
	err   error
}

// finish records the leecher's outcome.
func (l *leecher) finish(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended, l.err = time.Now(), err
}

// outcome returns when the leecher finished (zero while it runs) and its error.
func (l *leecher) outcome() (time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ended, l.err
}

// run starts the swarm and waits until every leecher is done (or failed), within --timeout.
func (s *swarm) run(ctx context.Context) (*summary, error) {
	if err := s.startTracker(ctx); err != nil {
		return nil, err
	}
	fmt.Printf("dashboard %s/  (open it in a browser%s)\n", s.tracker, holdHint(s.cfg))
	fmt.Printf("tracker   %s  (JSON API %s/api/v1/swarms/%s)\n", s.tracker, s.tracker, swarmName)
	if err := s.choosePace(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	source, err := s.generate(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	want, err := generate.PayloadDigest(source)
	if err != nil {
		return nil, err
	}
	fmt.Printf("source    %s  %s %s  sha256 %s (digested in %.1f s)\n", source, s.cfg.size, s.cfg.payload, want, time.Since(start).Seconds())
	if err := s.startSeeder(ctx, source); err != nil {
		return nil, err
	}
	// The clock starts once the seeder has hashed the file and published its .torrent.
	// Hashing takes a while for a large payload (100 GiB: about 5 minutes here): wait as long as
	// the whole run may take, the seeder logging its progress meanwhile.
	if err := waitHTTP(ctx, s.tracker+api.TorrentPathPrefix+swarmName, s.cfg.timeout); err != nil {
		return nil, fmt.Errorf("the seeder did not publish the torrent: %w (log: %s/seeder.log)", err, s.work)
	}
	leechers, start := s.startLeechers(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.awaitAll(ctx, leechers) }()
	watch(ctx, s.tracker, leechers, done)
	<-done
	total := time.Since(start)
	return s.summarize(source, want, leechers, total)
}

func holdHint(cfg config) string {
	if cfg.keepUp() {
		return "; every peer stays up until Ctrl-C"
	}
	return "; --watch paces the swarm and keeps it up"
}

// choosePace picks --watch's upload cap from the file's size and the number of leechers.
func (s *swarm) choosePace() error {
	if !s.cfg.watch {
		return nil
	}
	size, err := generate.ParseSize(s.cfg.size)
	if err != nil {
		return fmt.Errorf("--size: %w", err)
	}
	s.pace = choosePacing(size, s.cfg.peers, s.cfg.watchTime)
	fmt.Printf("pacing    %s\n", s.pace)
	return nil
}

// startTracker starts the tracker on a port of its own choosing and learns it from its log.
func (s *swarm) startTracker(ctx context.Context) error {
	// A one-second announce interval instead of the note's 30 s heartbeat, so that progress is live.
	p, err := s.launch(ctx, "tracker", "tracker", true, []string{"--listen", "127.0.0.1:0", "--announce-interval", "1s"})
	if err != nil {
		return err
	}
	addr, err := listenAddr(ctx, p, "Tracker listening", 30*time.Second)
	if err != nil {
		return err
	}
	s.tracker = "http://" + addr
	return waitHTTP(ctx, s.tracker+"/healthz", 10*time.Second)
}

func (s *swarm) generate(ctx context.Context) (string, error) {
	dir := filepath.Join(s.work, "seeder")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, s.cfg.payloadName())
	if s.cfg.payload != payloadFile {
		size, err := generate.ParseSize(s.cfg.size)
		if err != nil {
			return "", fmt.Errorf("--size: %w", err)
		}
		layout := generate.TreeLayout(size, s.cfg.files)
		return path, generate.WriteTree(path, s.cfg.seed, layout, s.cfg.payload == payloadSparse)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "peer"), "generate",
		"--size", s.cfg.size, "--seed", strconv.FormatUint(s.cfg.seed, 10), "--out", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("generate: %w: %s", err, out)
	}
	return path, nil
}

func (s *swarm) startSeeder(ctx context.Context, source string) error {
	args := append([]string{"seed", "--file", source, "--piece-size", s.cfg.pieceSize}, s.peerArgs("seeder")...)
	_, err := s.start(ctx, "seeder", "peer", args...)
	return err
}

// startLeechers starts every leecher. Without --hold or --watch they exit once their copy is
// verified; with either they stay up and seed.
func (s *swarm) startLeechers(ctx context.Context) ([]*leecher, time.Time) {
	start := time.Now()
	leechers := make([]*leecher, s.cfg.peers)
	for i := range leechers {
		l := &leecher{name: fmt.Sprintf("leecher-%02d", i+1), dir: filepath.Join(s.work, fmt.Sprintf("leecher-%02d", i+1))}
		leechers[i] = l
		if err := os.MkdirAll(l.dir, 0o755); err != nil {
			l.finish(err)
			continue
		}
		args := []string{"get", "--dir", l.dir}
		if !s.cfg.keepUp() {
			args = append(args, "--exit-on-complete")
		}
		args = append(args, s.peerArgs(l.name)...)
		l.started = time.Now()
		var err error
		if l.proc, err = s.start(ctx, l.name, "peer", args...); err != nil {
			l.finish(err)
		}
	}
	return leechers, start
}

// peerArgs are the flags every peer shares: the tracker, the swarm, its name, port 0 (each
// peer binds a free port itself and announces it) and --watch's pacing.
func (s *swarm) peerArgs(name string) []string {
	// Every peer of the demo is on 127.0.0.1: one address's shares of the connection slots and
	// of the half-open pool are raised so that everyone fits, as on a cluster where each pod
	// has its own IP.
	everyone := strconv.Itoa(max(s.cfg.peers+10, 50))
	args := []string{
		"--tracker", s.tracker, "--swarm", swarmName, "--name", name,
		"--listen", "127.0.0.1:0", "--metrics-addr", "",
		"--max-peers-per-ip", everyone, "--max-half-open", everyone, "--max-half-open-per-ip", everyone,
	}
	if s.pace.uploadRate > 0 {
		args = append(args, "--upload-rate", strconv.FormatInt(s.pace.uploadRate, 10))
	}
	return append(args, strings.Fields(s.cfg.extra)...)
}

// awaitAll waits until every leecher is done or failed, or ctx ends.
func (s *swarm) awaitAll(ctx context.Context, leechers []*leecher) {
	var wg sync.WaitGroup
	for _, l := range leechers {
		if l.proc == nil {
			continue
		}
		wg.Go(func() { s.await(ctx, l) })
	}
	wg.Wait()
}

// await waits for one leecher: an exiting leecher is done when it exits with 0; one that stays
// up is done once its verified file is in place under its final name (it was .part until then),
// and fails if it exits.
func (s *swarm) await(ctx context.Context, l *leecher) {
	final := filepath.Join(l.dir, s.cfg.payloadName())
	var poll <-chan time.Time // nil (never ready) for a leecher that exits when done
	if s.cfg.keepUp() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		poll = tick.C
	}
	for {
		select {
		case <-l.proc.done:
			switch {
			case l.proc.err != nil:
				l.finish(fmt.Errorf("exited: %w (log: %s.log)", l.proc.err, l.name))
			case s.cfg.keepUp() && !exists(final):
				l.finish(fmt.Errorf("exited before its copy was complete (log: %s.log)", l.name))
			default:
				l.finish(nil)
			}
			return
		case <-ctx.Done():
			l.finish(fmt.Errorf("not complete: %w", context.Cause(ctx)))
			return
		case <-poll:
			if exists(final) {
				l.finish(nil)
				return
			}
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
