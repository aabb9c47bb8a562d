package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// dieWithParent makes the kernel send SIGTERM to cmd's process when the demo dies, however it
// dies: a killed demo leaves no peer or tracker behind. With ownGroup the process gets a
// process group of its own, out of reach of the terminal's Ctrl-C.
func dieWithParent(cmd *exec.Cmd, ownGroup bool) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: ownGroup}
}

// stopWithParent asks the kernel to send the demo SIGTERM when its parent dies: `go run` exits
// on SIGTERM without passing it on, and the demo then stops its swarm as on Ctrl-C.
func stopWithParent() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
}

// peakRSS is the process's peak resident memory in bytes: from its rusage once it has exited,
// else the VmHWM line of /proc/PID/status.
func (p *proc) peakRSS() (int64, bool) {
	if p.exited() {
		if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			return ru.Maxrss << 10, true // Linux reports KiB
		}
		return 0, false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kib << 10, err == nil
		}
	}
	return 0, false
}
