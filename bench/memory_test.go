package main

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestMain lets the test binary play the tracker's child process: startTrackerProcess runs
// this same executable with -serve-tracker.
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == "-serve-tracker" {
		if err := serveTracker(); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestStatusField(t *testing.T) {
	status := []byte("Name:\tbench\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n")
	if got, ok := statusField(status, "VmHWM"); !ok || got != 200<<20 {
		t.Errorf("VmHWM = %d, %v; want 200 MiB", got, ok)
	}
	if _, ok := statusField(status, "VmSwap"); ok {
		t.Error("a missing field was found")
	}
}

// utime and stime are read after the command name, which may hold spaces and parentheses.
func TestStatCPU(t *testing.T) {
	line := "4242 (bench (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 250 0 0 20 0 8 0 100 0 0\n"
	got, err := statCPU(line)
	if err != nil || got != 4*time.Second {
		t.Errorf("CPU %v, %v; want 4 s (150 + 250 ticks)", got, err)
	}
	if _, err := statCPU("4242 (bench) S 1"); err == nil {
		t.Error("no error for a short line")
	}
}

func TestPerPeerMemory(t *testing.T) {
	m := memoryUse{BaselineBytes: 10 << 20, PeakBytes: 30 << 20}
	if got := m.perPeer(20); got != 1<<20 {
		t.Errorf("per peer %v, want 1 MiB ((30 - 10) MiB / 20)", got)
	}
	m.PeakBytes = 0 // never sampled
	if got := m.perPeer(20); got != 0 {
		t.Errorf("per peer %v without samples, want 0", got)
	}
}

// The tracker runs as a child process: it serves announces, its resident set is read, and it
// exits when killed.
func TestTrackerProcess(t *testing.T) {
	tr, err := startTracker(true)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.kill()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tr.url+"/announce", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	var m memoryUse
	tr.usage(&m)
	if m.TrackerIdleRSSBytes == 0 || m.TrackerPeakRSSBytes < m.TrackerIdleRSSBytes {
		t.Errorf("tracker RSS idle %d, peak %d: want both, peak >= idle", m.TrackerIdleRSSBytes, m.TrackerPeakRSSBytes)
	}
	tr.kill()
	if !tr.proc.cmd.ProcessState.Exited() {
		t.Errorf("the tracker process did not exit: %v", tr.proc.cmd.ProcessState)
	}
}

// 1001 sessions get 1001 distinct loopback addresses, none of them 127.0.0.1.
func TestOwnLoopbackAddr(t *testing.T) {
	seen := map[string]bool{}
	for i := range 1001 {
		a := ownLoopbackAddr(i)
		if seen[a] || a == "127.0.0.1:0" {
			t.Fatalf("address %s of session %d repeats or is 127.0.0.1", a, i)
		}
		seen[a] = true
	}
}

func TestSelectVariant(t *testing.T) {
	list, err := selectScenarios(options{scenario: "scale", variant: "n250"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || len(list[0].Variants) != 1 || list[0].Primary != "n250" || list[0].Variants[0].Spec.Leechers != 250 {
		t.Errorf("selected %+v, want the scale scenario's n250 alone", list)
	}
	if _, err := selectScenarios(options{variant: "nope"}); err == nil {
		t.Error("no error for an unknown variant")
	}
}
