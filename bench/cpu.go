package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuReading is the CPU time this process and the whole machine used up to an instant.
type cpuReading struct {
	at          time.Time
	self        time.Duration // user + system time of this process
	busy, total float64       // the machine's busy and total jiffies (/proc/stat; 0 elsewhere)
}

// cpuUse is the CPU a run used: its own share and the machine's (others' work included).
type cpuUse struct {
	// SelfCores is this process's CPU seconds per second of the run (2 = both cores).
	SelfCores float64 `json:"self_cores"`
	// MachineBusy is the fraction of all the machine's cores busy during the run, by anyone.
	MachineBusy float64 `json:"machine_busy"`
}

func readCPU() cpuReading {
	r := cpuReading{at: time.Now()}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		r.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	r.busy, r.total = machineJiffies()
	return r
}

// since is the CPU used between r0 and r.
func (r cpuReading) since(r0 cpuReading) cpuUse {
	wall := r.at.Sub(r0.at).Seconds()
	var u cpuUse
	if wall > 0 {
		u.SelfCores = (r.self - r0.self).Seconds() / wall
	}
	if dt := r.total - r0.total; dt > 0 {
		u.MachineBusy = (r.busy - r0.busy) / dt
	}
	return u
}

// machineJiffies reads the aggregate "cpu" line of /proc/stat: busy (all but idle and iowait)
// and total jiffies.
func machineJiffies() (busy, total float64) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0
	}
	for i, s := range fields[1:] {
		v, _ := strconv.ParseFloat(s, 64)
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total
}
