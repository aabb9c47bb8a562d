// Command bench is MiniBit's swarm lab: it runs swarms of real MiniBit sessions (the engine of
// internal/peer, real TCP on 127.0.0.1, real files) in this one process, each peer's upload
// capped by the engine's rate limiter to emulate a link, and measures them against the best
// possible distribution. Every run samples each peer every 100 ms, verifies every copy with
// SHA-256 and ends up in bench/results/<scenario>.json, a markdown table and plots.
//
//	go run ./bench                       # every scenario (make bench)
//	go run ./bench -scenario reference   # one (make bench SCENARIO=reference)
//	go run ./bench -scenario scale -variant n1000 -cpuprofile cpu.pprof -memprofile mem.pprof
//
// After the scenarios it writes the goals, each with its measured figure, to
// <out>/README.md and stdout (goals.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
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
	scenario     string
	variant      string
	out          string
	work         string
	reps         int
	cpuProf      string
	memProf      string
	series       bool
	timeout      time.Duration
	serveTracker bool
}

func parseFlags() options {
	var o options
	names := make([]string, 0)
	for _, sc := range scenarios() {
		names = append(names, sc.Name)
	}
	flag.StringVar(&o.scenario, "scenario", "", "run one scenario: "+strings.Join(names, ", ")+" (empty: all)")
	flag.StringVar(&o.out, "out", "bench/results", "directory of the JSON, markdown and plots")
	flag.StringVar(&o.work, "work", "", "directory of every swarm's files, whatever storage its variant asks for (empty: a temporary directory on disk, and one under "+defaultShmDir+" for the variants in memory)")
	flag.IntVar(&o.reps, "reps", 0, "repetitions of each variant (0: the scenario's own)")
	flag.DurationVar(&o.timeout, "timeout", 0, "end each run after this long (0: the scenario's own)")
	flag.StringVar(&o.variant, "variant", "", "run only this variant of the scenario (empty: all)")
	flag.StringVar(&o.cpuProf, "cpuprofile", "", "write a CPU profile of the whole lab to this file")
	flag.StringVar(&o.memProf, "memprofile", "", "write a heap profile (allocations of the whole lab, in use at its end) to this file")
	flag.BoolVar(&o.serveTracker, "serve-tracker", false, "internal: serve the lab's tracker, print its URL, stop when stdin closes (trackerproc.go)")
	flag.BoolVar(&o.series, "series", false, "also write each variant's 100 ms samples (median repetition) to <scenario>-<variant>-series.json")
	flag.Parse()
	return o
}

func run() error {
	o := parseFlags()
	if o.serveTracker {
		return serveTracker()
	}
	list, err := selectScenarios(o)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := raiseFileLimit(); err != nil {
		log.Warn("Open files limit not raised: the largest swarms may fail", "err", err)
	}
	if o.cpuProf != "" {
		stopProfile, err := startCPUProfile(o.cpuProf)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	if err := runScenarios(o, list, log); err != nil {
		return err
	}
	if o.memProf != "" {
		if err := writeHeapProfile(o.memProf); err != nil {
			return err
		}
	}
	return writeReport(o.out, os.Stdout)
}

// selectScenarios is the scenarios (and variants) the flags name.
func selectScenarios(o options) ([]scenario, error) {
	list := scenarios()
	if o.scenario != "" {
		sc, ok := findScenario(o.scenario)
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q", o.scenario)
		}
		list = []scenario{sc}
	}
	if o.variant == "" {
		return list, nil
	}
	for i := range list {
		list[i].Variants = slices.DeleteFunc(list[i].Variants, func(v variant) bool { return v.Name != o.variant })
		if len(list[i].Variants) > 0 {
			list[i].Primary = o.variant
		}
	}
	list = slices.DeleteFunc(list, func(sc scenario) bool { return len(sc.Variants) == 0 })
	if len(list) == 0 {
		return nil, fmt.Errorf("no variant %q", o.variant)
	}
	return list, nil
}

// runScenarios runs each scenario and writes its results.
func runScenarios(o options, list []scenario, log *slog.Logger) error {
	disk, err := os.MkdirTemp(o.work, "minibit-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(disk)
	work := workDirs{disk: disk, shm: defaultShmDir, pinned: o.work != ""}
	// Interrupted or terminated, the lab stops its swarm and removes its directories: those in
	// memory would otherwise hold the machine's memory until someone deletes them.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
	return nil
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

// writeHeapProfile writes the heap profile (what was allocated over the whole run, and what is
// still in use) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the in-use figures as of now, not as of the last collection
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
