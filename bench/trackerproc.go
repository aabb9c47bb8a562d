package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/tracker"
)

// The tracker as a child process: the scale scenario runs its tracker apart from the peers so
// that each one's memory can be told (the tracker's resident set from /proc, the peers' from
// the lab's own heap). The child is this same program run with -serve-tracker: the same
// tracker package and settings as the in-process one.

// trackerStartTimeout bounds the child's start, until it prints its URL.
const trackerStartTimeout = 30 * time.Second

// labTrackerConfig is the lab's tracker: a 1 s announce interval (runs last seconds, not
// minutes), the rest the defaults.
func labTrackerConfig() tracker.Config {
	return tracker.Config{Interval: time.Second, MinInterval: time.Second}
}

// serveTracker is the child's side (-serve-tracker): it serves the lab's tracker on a loopback
// port, prints its URL on stdout and ends when its stdin closes (the lab ended it, or died).
func serveTracker() error {
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	tr := tracker.NewServer(labTrackerConfig())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = tr.Run(ctx) }()
	srv := &http.Server{Handler: tr, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	if _, err := fmt.Println("http://" + ln.Addr().String()); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return srv.Close()
}

// trackerProcess is the running child.
type trackerProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	cpu0  time.Duration // its CPU time once it listened

	mu               sync.Mutex
	idleRSS, peakRSS uint64
	cpu              time.Duration // since it listened, as last read
}

// startTrackerProcess starts the child and waits for its URL.
func startTrackerProcess() (*labTracker, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	out, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.CommandContext(context.Background(), exe, "-serve-tracker") // ended by end(), not a context
	cmd.Stdout, cmd.Stderr = w, os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	err = cmd.Start()
	_ = w.Close()
	if err != nil {
		return nil, fmt.Errorf("tracker process: %w", err)
	}
	p := &trackerProcess{cmd: cmd, stdin: stdin}
	url, err := readURL(out)
	if err != nil {
		p.end()
		return nil, fmt.Errorf("tracker process: %w", err)
	}
	p.idleRSS, _ = procStatusBytes(p.pid(), "VmRSS")
	p.cpu0, _ = procCPU(p.pid())
	return &labTracker{url: url, stop: p.end, proc: p}, nil
}

// readURL reads the child's first line, within trackerStartTimeout.
func readURL(out *os.File) (string, error) {
	if err := out.SetReadDeadline(time.Now().Add(trackerStartTimeout)); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return "", err
	}
	url := strings.TrimSpace(line)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		return "", fmt.Errorf("unexpected first line %q", line)
	}
	return url, nil
}

func (p *trackerProcess) pid() string { return strconv.Itoa(p.cmd.Process.Pid) }

// read records the child's peak resident set and CPU time while it runs (after it ended, the
// last reading stays).
func (p *trackerProcess) read() {
	hwm, okHWM := procStatusBytes(p.pid(), "VmHWM")
	cpu, okCPU := procCPU(p.pid())
	p.mu.Lock()
	defer p.mu.Unlock()
	if okHWM {
		p.peakRSS = hwm
	}
	if okCPU {
		p.cpu = cpu - p.cpu0
	}
}

// end reads the child's figures a last time, closes its stdin and waits for it to exit (killed
// after 5 s).
func (p *trackerProcess) end() {
	p.read()
	_ = p.stdin.Close()
	done := make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// usage puts the tracker's memory into m and returns the CPU time it used since it listened;
// nothing for an in-process tracker (its share is the lab's).
func (t *labTracker) usage(m *memoryUse) time.Duration {
	if t.proc == nil {
		return 0
	}
	t.proc.read()
	t.proc.mu.Lock()
	defer t.proc.mu.Unlock()
	m.TrackerIdleRSSBytes, m.TrackerPeakRSSBytes = t.proc.idleRSS, t.proc.peakRSS
	return t.proc.cpu
}

// clockTicks is the unit of /proc/<pid>/stat's times (USER_HZ, 100 on Linux).
const clockTicks = 100

// procCPU is a process's user + system time from /proc/<pid>/stat.
func procCPU(pid string) (time.Duration, bool) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	d, err := statCPU(string(data))
	return d, err == nil
}

// statCPU parses utime and stime (fields 14 and 15) of a /proc/<pid>/stat line; the command
// name, in parentheses, may hold spaces.
func statCPU(line string) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, errors.New("no command name")
	}
	fields := strings.Fields(line[i+1:]) // fields[0] is field 3, the state
	if len(fields) < 13 {
		return 0, errors.New("short stat line")
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
