package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// machine describes where the lab ran.
type machine struct {
	CPU   string `json:"cpu"`
	Cores int    `json:"cores"`
	OS    string `json:"os"`
	Go    string `json:"go"`
}

func describeMachine() machine {
	m := machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// writeResult writes <out>/<scenario>.json and <out>/<scenario>.md.
func writeResult(out string, res *scenarioResult) error {
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, res.Scenario+".json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n\nMachine: %s, %d cores, %s; %s.\n\n", res.Scenario, res.Description,
		res.Machine.CPU, res.Machine.Cores, res.Machine.Go, res.Date)
	writeVariantTable(&b, res.Variants)
	return os.WriteFile(filepath.Join(out, res.Scenario+".md"), []byte(b.String()), 0o644)
}

// tableHeader is the markdown table of variants: medians over the repetitions.
const tableHeader = "| variant | N | reps | makespan s (min-max) | T* s | makespan/T* | median s | tail | upload util. | seeder up/F | dup | goodput MB/s | verified | CPU-bound (busy) |\n" +
	"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"

func writeVariantTable(b *strings.Builder, vs []variantResult) {
	b.WriteString(tableHeader)
	for _, v := range vs {
		fmt.Fprintf(b, "| %s | %d | %d | %.2f (%.2f-%.2f) | %.2f | %.3f | %.2f | %.3f | %.3f | %.3f | %.4f | %.0f | %v | %v (%.2f) |\n",
			v.Name, v.Peers, len(v.Repetitions), v.MakespanS, v.MakespanSpreadS[0], v.MakespanSpreadS[1], v.TStarS,
			v.MakespanOverTStar, v.MedianS, v.TailRatio, v.UploadUtilization, v.SeederUploadOverF, v.EndgameDupRatio,
			v.GoodputBps/1e6, v.AllVerified, v.CPUBound, v.MachineBusy)
	}
	b.WriteString("\n")
}

// writeTable gathers every <scenario>.json of out (not the -series.json files) into
// out/README.md: one table of all variants.
func writeTable(out string) error {
	files, err := filepath.Glob(filepath.Join(out, "*.json"))
	if err != nil {
		return err
	}
	files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, seriesSuffix) })
	slices.Sort(files)
	var b strings.Builder
	b.WriteString("# Swarm lab results\n\nWritten by `make bench` (bench/); medians over the repetitions. See docs/benchmarks.md.\n\n")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var res scenarioResult
		if err := json.Unmarshal(data, &res); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		fmt.Fprintf(&b, "## %s\n\n%s (%s)\n\n", res.Scenario, res.Description, res.Date)
		writeVariantTable(&b, res.Variants)
	}
	return os.WriteFile(filepath.Join(out, "README.md"), []byte(b.String()), 0o644)
}
