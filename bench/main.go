// Command bench is MiniBit's swarm lab: it runs swarms of real MiniBit sessions (the engine of
// internal/peer, real TCP on 127.0.0.1, real files) in this one process, each peer's upload
// capped by the engine's rate limiter to emulate a link, and measures them against the best
// possible distribution. Every run samples each peer every 100 ms, verifies every copy with
// SHA-256 and ends up in bench/results/<scenario>.json, a markdown table and plots.
//
//	go run ./bench                       # every scenario (make bench)
//	go run ./bench -scenario reference   # one (make bench SCENARIO=reference)
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	scenario string
	out      string
	work     string
	reps     int
	cpuProf  string
	series   bool
	timeout  time.Duration
}

func parseFlags() options {
	var o options
	names := make([]string, 0)
	for _, sc := range scenarios() {
		names = append(names, sc.Name)
	}
	flag.StringVar(&o.scenario, "scenario", "", "run one scenario: "+strings.Join(names, ", ")+" (empty: all)")
	flag.StringVar(&o.out, "out", "bench/results", "directory of the JSON, markdown and plots")
	flag.StringVar(&o.work, "work", "", "directory of the swarms' files (empty: a temporary directory)")
	flag.IntVar(&o.reps, "reps", 0, "repetitions of each variant (0: the scenario's own)")
	flag.DurationVar(&o.timeout, "timeout", 0, "end each run after this long (0: the scenario's own)")
	flag.StringVar(&o.cpuProf, "cpuprofile", "", "write a CPU profile of the whole lab to this file")
	flag.BoolVar(&o.series, "series", false, "also write each variant's 100 ms samples (median repetition) to <scenario>-<variant>-series.json")
	flag.Parse()
	return o
}

func run() error {
	o := parseFlags()
	list := scenarios()
	if o.scenario != "" {
		sc, ok := findScenario(o.scenario)
		if !ok {
			return fmt.Errorf("unknown scenario %q", o.scenario)
		}
		list = []scenario{sc}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if o.cpuProf != "" {
		stopProfile, err := startCPUProfile(o.cpuProf)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	work, err := os.MkdirTemp(o.work, "minibit-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	for _, sc := range list {
		if o.reps > 0 {
			sc.Reps = o.reps
		}
		if o.timeout > 0 {
			for i := range sc.Variants {
				sc.Variants[i].Spec.Timeout = o.timeout
			}
		}
		started := time.Now()
		res, err := runScenario(ctx, sc, work, o.out, o.series, log)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.Name, err)
		}
		if err := writeResult(o.out, res); err != nil {
			return fmt.Errorf("%s: %w", sc.Name, err)
		}
		log.Info("Scenario done", "scenario", sc.Name, "seconds", time.Since(started).Seconds())
	}
	return writeTable(o.out)
}

// startCPUProfile profiles the process into path until the returned function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
