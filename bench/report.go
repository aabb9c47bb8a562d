package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
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

// tableHeader is the markdown table of variants: medians over the repetitions. Files is where
// the runs' files were: memory (a tmpfs) or disk.
const tableHeader = "| variant | files | N | reps | makespan s (min-max) | T* s | makespan/T* | median s | tail | upload util. | seeder up/F | dup | goodput MB/s | CPU ns/B | verified | CPU-bound (busy) |\n" +
	"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"

func writeVariantTable(b *strings.Builder, vs []variantResult) {
	b.WriteString(tableHeader)
	for _, v := range vs {
		fmt.Fprintf(b, "| %s | %s | %d | %d | %.2f (%.2f-%.2f) | %.2f | %.3f | %.2f | %.3f | %.3f | %.3f | %.4f | %.0f | %.2f | %v | %v (%.2f) |\n",
			v.Name, storageCell(v), v.Peers, len(v.Repetitions), v.MakespanS, v.MakespanSpreadS[0], v.MakespanSpreadS[1], v.TStarS,
			v.MakespanOverTStar, v.MedianS, v.TailRatio, v.UploadUtilization, v.SeederUploadOverF, v.EndgameDupRatio,
			v.GoodputBps/1e6, v.CPUNsPerByte, v.AllVerified, v.CPUBound, v.MachineBusy)
	}
	b.WriteString("\n")
	writeStorageNotes(b, vs)
	writeMemoryTable(b, vs)
}

// storageCell is the table's files column: the storage, with "(note)" when it is not what the
// variant asked for (writeStorageNotes says why); "-" in results from before the lab recorded it.
func storageCell(v variantResult) string {
	switch {
	case v.Storage == "":
		return "-"
	case v.StorageNote != "":
		return v.Storage + " (note)"
	}
	return v.Storage
}

// writeStorageNotes says, under the table, why a variant's files were not where it asked.
func writeStorageNotes(b *strings.Builder, vs []variantResult) {
	noted := false
	for _, v := range vs {
		if v.StorageNote != "" {
			fmt.Fprintf(b, "- Note on %s's files: %s.\n", v.Name, v.StorageNote)
			noted = true
		}
	}
	if noted {
		b.WriteString("\n")
	}
}

// writeMemoryTable adds, for the variants whose tracker ran as a child process (the scale
// scenario), the memory each part held.
func writeMemoryTable(b *strings.Builder, vs []variantResult) {
	if !slices.ContainsFunc(vs, func(v variantResult) bool { return v.TrackerRSSPeakBytes > 0 }) {
		return
	}
	b.WriteString("| variant | N | lab live heap + stacks, peak MiB | of which stacks MiB | goroutines | per peer KiB | lab RSS peak MiB | tracker RSS idle MiB | tracker RSS peak MiB |\n" +
		"|---|---|---|---|---|---|---|---|---|\n")
	for _, v := range vs {
		fmt.Fprintf(b, "| %s | %d | %.1f | %.1f | %.0f | %.0f | %.1f | %.1f | %.1f |\n", v.Name, v.Peers, v.MemPeakBytes/mib,
			v.StacksPeakBytes/mib, v.GoroutinesPeak, v.MemPerPeerBytes/kib, v.RSSPeakBytes/mib, v.TrackerRSSIdleBytes/mib,
			v.TrackerRSSPeakBytes/mib)
	}
	b.WriteString("\n")
}

// loadResults reads every <scenario>.json of out (not the -series.json files), by scenario.
func loadResults(out string) (map[string]*scenarioResult, error) {
	files, err := filepath.Glob(filepath.Join(out, "*.json"))
	if err != nil {
		return nil, err
	}
	files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, seriesSuffix) })
	results := make(map[string]*scenarioResult, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var res scenarioResult
		if err := json.Unmarshal(data, &res); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		results[res.Scenario] = &res
	}
	return results, nil
}

// writeReport writes out/README.md (issue 15's goals, then one table per scenario of out) and
// the goals to stdout.
func writeReport(out string, stdout io.Writer) error {
	results, err := loadResults(out)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# Swarm lab results\n\nWritten by `make bench` (bench/); medians over the repetitions. See docs/benchmarks.md.\n\n")
	if err := writeGoals(&b, results); err != nil {
		return err
	}
	for _, name := range sortedKeys(results) {
		res := results[name]
		fmt.Fprintf(&b, "## %s\n\n%s (%s)\n\n", res.Scenario, res.Description, res.Date)
		writeVariantTable(&b, res.Variants)
	}
	if err := os.WriteFile(filepath.Join(out, "README.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	return writeGoals(stdout, results)
}
