package main

import (
	"fmt"
	"syscall"
)

// What 1000 sessions in one process need from the system: open files, and addresses.

// wantOpenFiles is the open-files limit the lab asks for. The scale scenario's 1001 sessions
// hold up to 50 connections each, both ends of every loopback connection in this one process:
// about 50,000 descriptors, plus each session's listener, tracker connection and files.
const wantOpenFiles = 1 << 17

// raiseFileLimit raises RLIMIT_NOFILE to wantOpenFiles: the hard limit too where the process may
// (root, or CAP_SYS_RESOURCE), else the soft limit to the hard one.
func raiseFileLimit() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= wantOpenFiles {
		return nil
	}
	want := syscall.Rlimit{Cur: wantOpenFiles, Max: max(lim.Max, wantOpenFiles)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
		return nil
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	return fmt.Errorf("open files limited to %d (hard limit)", lim.Max)
}

// ownLoopbackAddr is session index's own listen address (swarmSpec.OwnAddresses): 127.0.x.y,
// port chosen by the system, x from 1 and y from 1 to 250, so that 1001 sessions never share
// one. Outgoing connections leave from it too (the engine binds its dials to the listen IP).
func ownLoopbackAddr(index int) string {
	return fmt.Sprintf("127.0.%d.%d:0", 1+index/250, 1+index%250)
}
