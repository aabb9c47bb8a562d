package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// stopGrace is how long stopAll waits for the processes to stop after SIGINT before it kills
// those left.
const stopGrace = 10 * time.Second

// proc is one process of the demo. err is set before done closes, by proc's own wait goroutine.
type proc struct {
	name     string
	stopLast bool   // the tracker: stopped once the peers are
	log      string // path of its log (stdout and stderr)
	cmd      *exec.Cmd
	done     chan struct{}
	err      error
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// start starts a peer: bin/binary with args, its output in work/name.log. The process outlives
// ctx's cancellation and deadline: stopAll ends it, so that a held swarm outlives every timeout.
func (s *swarm) start(ctx context.Context, name, binary string, args ...string) (*proc, error) {
	return s.launch(ctx, name, binary, false, args)
}

// launch starts a process as start does; one started last (the tracker) is stopped after the
// others, and (on Linux) in a process group of its own, so that a terminal's Ctrl-C reaches the
// demo and the peers but leaves it to the demo.
func (s *swarm) launch(ctx context.Context, name, binary string, last bool, args []string) (*proc, error) {
	path := filepath.Join(s.work, name+".log")
	logFile, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }() // the child keeps its own descriptor
	cmd := exec.CommandContext(context.WithoutCancel(ctx), filepath.Join(s.bin, binary), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	dieWithParent(cmd, last)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, stopLast: last, log: path, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

// stopAll stops every process still running and reports how many it stopped: the peers first,
// then the tracker, so that the peers' last announces ("stopped") find it up and none of them
// waits out its retries.
func (s *swarm) stopAll() int {
	s.mu.Lock()
	var peers, last []*proc
	for _, p := range s.procs {
		if p.stopLast {
			last = append(last, p)
		} else {
			peers = append(peers, p)
		}
	}
	s.mu.Unlock()
	return stop(peers) + stop(last)
}

// stop sends SIGINT to every process of procs still running, waits for them (up to stopGrace,
// then kills the rest) and reports how many it stopped.
func stop(procs []*proc) int {
	stopped := 0
	for _, p := range procs {
		if !p.exited() {
			_ = p.cmd.Process.Signal(os.Interrupt)
			stopped++
		}
	}
	deadline := time.NewTimer(stopGrace)
	defer deadline.Stop()
	for _, p := range procs {
		select {
		case <-p.done:
		case <-deadline.C:
			for _, q := range procs {
				if !q.exited() {
					fmt.Fprintf(os.Stderr, "demo: %s did not stop within %s; killing it\n", q.name, stopGrace)
					_ = q.cmd.Process.Kill()
				}
			}
			<-p.done
		}
	}
	return stopped
}

// listenAddr waits until p's log has a line with message msg and returns that line's addr=
// value: a process started on port 0 reports there the address it bound, so the demo never
// picks a port that another socket may take first.
func listenAddr(ctx context.Context, p *proc, msg string, within time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if addr, ok := findListenAddr(p.log, msg); ok {
			return addr, nil
		}
		select {
		case <-p.done:
			if addr, ok := findListenAddr(p.log, msg); ok {
				return addr, nil
			}
			return "", fmt.Errorf("%s exited before it listened: %w (log: %s)", p.name, p.err, p.log)
		case <-ctx.Done():
			return "", fmt.Errorf("%s did not report its address within %s (log: %s)", p.name, within, p.log)
		case <-tick.C:
		}
	}
}

// maxLogScan bounds how much of a log findLogValue reads: the line it looks for comes first.
const maxLogScan = 1 << 20

// findListenAddr returns the addr= value of the first line of the log at path whose message
// (slog's text format: msg="...") is msg.
func findListenAddr(path, msg string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(io.LimitReader(f, maxLogScan))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		if m, ok := logValue(line, "msg"); !ok || m != msg {
			continue
		}
		return logValue(line, "addr")
	}
	return "", false
}

// logValue returns the value of key in one line of slog's text format (key=value pairs, values
// with spaces or quotes written as Go quoted strings).
func logValue(line, key string) (string, bool) {
	for rest := line; rest != ""; {
		i := strings.Index(rest, key+"=")
		if i < 0 {
			return "", false
		}
		if i > 0 && rest[i-1] != ' ' {
			rest = rest[i+len(key)+1:]
			continue
		}
		v := rest[i+len(key)+1:]
		if strings.HasPrefix(v, `"`) {
			q, err := strconv.QuotedPrefix(v)
			if err != nil {
				return "", false
			}
			u, err := strconv.Unquote(q)
			return u, err == nil
		}
		if j := strings.IndexByte(v, ' '); j >= 0 {
			v = v[:j]
		}
		return v, true
	}
	return "", false
}
