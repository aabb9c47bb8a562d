// Command demo runs a whole MiniBit swarm on this machine as separate processes on 127.0.0.1:
// a tracker, one seeder of a generated file and N leechers. It shows live progress, checks every
// leecher's copy against the source's SHA-256 itself, and prints a summary table. It exits 0 only
// when every leecher holds a verified copy.
//
// With --watch it caps every peer's upload so that the swarm takes about half a minute, and keeps
// every peer up (the leechers seeding once done) until Ctrl-C, to be watched on the dashboard.
// Every process binds port 0 itself and the demo reads the address it got from its log.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	if err := mainErr(parseFlags()); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func mainErr(cfg config) error {
	stopWithParent()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, cfg, func(summary *summary) error {
		printSummary(os.Stdout, summary)
		if cfg.jsonPath != "" {
			if err := writeJSON(cfg.jsonPath, summary); err != nil {
				return err
			}
		}
		if cfg.keepUp() && ctx.Err() == nil {
			fmt.Printf("\nEvery peer stays up (the seeder, and %d leechers now seeding) for the dashboard; Ctrl-C stops them.\n", cfg.peers)
			<-ctx.Done()
			fmt.Println("\nStopping the swarm…")
		}
		return nil
	})
}

type config struct {
	bin       string
	peers     int
	size      string
	seed      uint64
	pieceSize string
	jsonPath  string
	workDir   string
	keep      bool
	timeout   time.Duration
	extra     string
	hold      bool
	watch     bool
	watchTime time.Duration
	payload   string
	files     int
}

// keepUp tells whether the peers stay up after the summary until Ctrl-C (--hold, --watch).
func (c config) keepUp() bool { return c.hold || c.watch }

func parseFlags() config {
	var c config
	flag.StringVar(&c.bin, "bin", "bin", "directory holding the tracker and peer binaries")
	flag.IntVar(&c.peers, "peers", 8, "number of leechers")
	flag.StringVar(&c.size, "size", "64MiB", "size of the generated file (e.g. 64MiB, 1GiB)")
	flag.Uint64Var(&c.seed, "seed", 1, "seed number of the generated file's deterministic content")
	flag.StringVar(&c.pieceSize, "piece-size", "256KiB", "piece size")
	flag.StringVar(&c.jsonPath, "json", "", "also write the summary as JSON to this path")
	flag.StringVar(&c.workDir, "workdir", "", "directory for the swarm's files (default: a temporary directory, removed at the end)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Minute, "give up when the leechers are not all done after this long")
	flag.StringVar(&c.extra, "peer-flags", "", "extra flags passed to every peer, space separated (e.g. \"--upload-rate 4MiB\"); they override --watch's pacing")
	flag.BoolVar(&c.hold, "hold", false, "keep the tracker and every peer running after the summary, the leechers seeding, until Ctrl-C (to look at the dashboard)")
	flag.BoolVar(&c.watch, "watch", false, "a swarm to watch: cap every peer's upload so that it takes about --watch-time, then hold it like --hold")
	flag.DurationVar(&c.watchTime, "watch-time", 30*time.Second, "how long --watch paces the swarm to take")
	flag.StringVar(&c.payload, "payload", payloadFile, "what the seeder shares: \"file\" (one generated file of --size), \"tree\" (a model-like directory of --files generated files totalling --size) or \"sparse\" (the same directory as holes of zeros, for payloads larger than the disk)")
	flag.IntVar(&c.files, "files", 8, "number of files of a tree or sparse payload (at least 4)")
	flag.Parse()
	return c
}

// run runs the swarm, hands its summary to report while the processes still run, then stops
// them. It fails when the swarm could not run or not every leecher holds a verified copy.
func run(ctx context.Context, cfg config, report func(*summary) error) error {
	if cfg.peers < 1 {
		return errors.New("--peers must be at least 1")
	}
	if cfg.payload != payloadFile && cfg.payload != payloadTree && cfg.payload != payloadSparse {
		return fmt.Errorf("--payload %q: want file, tree or sparse", cfg.payload)
	}
	if cfg.watch && cfg.watchTime <= 0 {
		return errors.New("--watch-time must be positive")
	}
	bin, err := filepath.Abs(cfg.bin)
	if err != nil {
		return err
	}
	work, cleanup, err := workDir(cfg)
	if err != nil {
		return err
	}
	defer cleanup()
	sw := &swarm{cfg: cfg, bin: bin, work: work}
	defer func() {
		if n := sw.stopAll(); n > 0 && cfg.keepUp() {
			fmt.Printf("stopped %d processes\n", n)
		}
	}()
	summary, err := sw.run(ctx)
	if summary != nil {
		if rerr := report(summary); rerr != nil {
			return rerr
		}
	}
	return err
}

func workDir(cfg config) (string, func(), error) {
	if cfg.workDir != "" {
		return cfg.workDir, func() {}, os.MkdirAll(cfg.workDir, 0o755)
	}
	dir, err := os.MkdirTemp("", "minibit-demo-")
	if err != nil {
		return "", nil, err
	}
	if cfg.keep {
		return dir, func() { fmt.Println("work directory kept:", dir) }, nil
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

func writeJSON(path string, s *summary) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
