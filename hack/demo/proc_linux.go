package main

import (
	"os/exec"
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
