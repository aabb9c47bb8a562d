//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing here: only Linux has a parent-death signal, and without it a
// process in a group of its own could outlive a killed demo.
func dieWithParent(*exec.Cmd, bool) {}

// stopWithParent does nothing here: only Linux has a parent-death signal.
func stopWithParent() {}

// peakRSS is not measured here.
func (p *proc) peakRSS() (int64, bool) { return 0, false }
