// Command demo runs a whole MiniBit swarm on this machine as separate processes on 127.0.0.1:
// a tracker, one seeder of a generated file and N leechers. It shows live progress, checks every
// leecher's copy against the source's SHA-256 itself, and prints a summary table. It exits 0 only
// when every leecher holds a verified copy.
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, cfg, func(summary *summary) error {
		printSummary(os.Stdout, summary)
		if cfg.jsonPath != "" {
			if err := writeJSON(cfg.jsonPath, summary); err != nil {
				return err
			}
		}
		if cfg.hold {
			fmt.Println("\nThe swarm stays up for the dashboard; Ctrl-C stops it.")
			<-ctx.Done()
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
}

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
	flag.DurationVar(&c.timeout, "timeout", 10*time.Minute, "give up after this long")
	flag.StringVar(&c.extra, "peer-flags", "", "extra flags passed to every peer, space separated (e.g. \"--upload-rate 4MiB\")")
	flag.BoolVar(&c.hold, "hold", false, "keep the tracker and peers running after the summary, until Ctrl-C (to look at the dashboard)")
	flag.Parse()
	return c
}

// run runs the swarm, hands its summary to report while the processes still run, then stops
// them. It fails when the swarm could not run or not every leecher holds a verified copy.
func run(ctx context.Context, cfg config, report func(*summary) error) error {
	if cfg.peers < 1 {
		return errors.New("--peers must be at least 1")
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
	swarmCtx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	sw := &swarm{cfg: cfg, bin: bin, work: work}
	defer sw.stopAll()
	summary, err := sw.run(swarmCtx)
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
