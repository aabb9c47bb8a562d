package main

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
)

// memoryUse is what a run held in memory: the lab process's Go memory and resident set, sampled
// every 100 ms with the swarm, and, when the tracker runs as a child process
// (swarmSpec.TrackerProcess), the tracker's resident set.
type memoryUse struct {
	// BaselineBytes is the live Go heap plus goroutine stacks before the peers started (after a
	// garbage collection): what the lab held without the swarm.
	BaselineBytes uint64
	// PeakBytes is the largest live heap (as the last collection marked it) plus goroutine stacks
	// of the samples.
	PeakBytes uint64
	// PeakStacksBytes and PeakGoroutines are the largest goroutine stacks and goroutine count of
	// the samples (the stacks are part of PeakBytes).
	PeakStacksBytes, PeakGoroutines uint64
	// PeakRSSBytes is the lab process's largest resident set of the samples.
	PeakRSSBytes uint64
	// TrackerIdleRSSBytes is the tracker's resident set once it listened, before any announce;
	// TrackerPeakRSSBytes its high-water mark (VmHWM) at the end of the run. 0: in-process.
	TrackerIdleRSSBytes, TrackerPeakRSSBytes uint64
}

// goMemory is a reading of the runtime's memory metrics.
type goMemory struct {
	liveHeap, stacks, goroutines uint64
}

// readGoMemory reads the live heap (as of the last garbage collection), the goroutine stacks
// and the number of goroutines.
func readGoMemory() goMemory {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/sched/goroutines:goroutines"}}
	metrics.Read(s)
	v := make([]uint64, len(s))
	for i, m := range s {
		if m.Value.Kind() == metrics.KindUint64 {
			v[i] = m.Value.Uint64()
		}
	}
	return goMemory{liveHeap: v[0], stacks: v[1], goroutines: v[2]}
}

// held is the live heap plus the stacks.
func (g goMemory) held() uint64 { return g.liveHeap + g.stacks }

// baselineMemory collects garbage and returns what the process holds live.
func baselineMemory() uint64 {
	runtime.GC()
	return readGoMemory().held()
}

// sample records the process's memory now if it is a peak.
func (m *memoryUse) sample() {
	g := readGoMemory()
	m.PeakBytes = max(m.PeakBytes, g.held())
	m.PeakStacksBytes = max(m.PeakStacksBytes, g.stacks)
	m.PeakGoroutines = max(m.PeakGoroutines, g.goroutines)
	if rss, ok := procStatusBytes("self", "VmRSS"); ok {
		m.PeakRSSBytes = max(m.PeakRSSBytes, rss)
	}
}

// perPeer is the memory each session added: (peak - baseline) / sessions.
func (m memoryUse) perPeer(sessions int) float64 {
	if sessions <= 0 || m.PeakBytes < m.BaselineBytes {
		return 0
	}
	return float64(m.PeakBytes-m.BaselineBytes) / float64(sessions)
}

// procStatusBytes reads a "kB" field (VmRSS, VmHWM) of /proc/<pid>/status.
func procStatusBytes(pid, field string) (uint64, bool) {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, false
	}
	return statusField(data, field)
}

// statusField parses "field:   123 kB" out of a /proc status file.
func statusField(data []byte, field string) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		return n << 10, err == nil
	}
	return 0, false
}
