package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/tracker/api"
)

const (
	swarmName = "demo"
	fileName  = "demo.bin"
)

// swarm owns the demo's processes. Each leecher's result fields are written by that leecher's
// wait goroutine only and read after waitAll returns.
type swarm struct {
	cfg     config
	bin     string
	work    string
	tracker string
	procs   []*exec.Cmd
	mu      sync.Mutex // guards procs
}

type leecher struct {
	name    string
	dir     string
	cmd     *exec.Cmd
	started time.Time
	ended   time.Time
	err     error
}

func (s *swarm) run(ctx context.Context) (*summary, error) {
	if err := s.startTracker(ctx); err != nil {
		return nil, err
	}
	fmt.Printf("tracker   %s  (JSON API %s/api/v1/swarms/%s)\n", s.tracker, s.tracker, swarmName)
	fmt.Printf("dashboard %s/  (open it in a browser; --hold keeps the swarm up after it completes)\n", s.tracker)
	source, err := s.generate(ctx)
	if err != nil {
		return nil, err
	}
	want, err := fileSHA256(source)
	if err != nil {
		return nil, err
	}
	fmt.Printf("source    %s  %s  sha256 %s\n", source, s.cfg.size, want)
	if err := s.startSeeder(ctx, source); err != nil {
		return nil, err
	}
	// The clock starts once the seeder has hashed the file and published its .torrent.
	if err := waitHTTP(ctx, s.tracker+api.TorrentPathPrefix+swarmName, 5*time.Minute); err != nil {
		return nil, fmt.Errorf("the seeder did not publish the torrent: %w (log: %s/seeder.log)", err, s.work)
	}
	leechers, start := s.startLeechers(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.waitAll(leechers) }()
	watch(ctx, s.tracker, leechers, done)
	<-done
	total := time.Since(start)
	return s.summarize(source, want, leechers, total)
}

func (s *swarm) startTracker(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s.tracker = "http://" + addr
	// A one-second heartbeat instead of the note's 30 s, so that progress is live.
	if _, err := s.start(ctx, "tracker", "tracker", "--listen", addr, "--interval", "1s"); err != nil {
		return err
	}
	return waitHTTP(ctx, s.tracker+"/healthz", 10*time.Second)
}

func (s *swarm) generate(ctx context.Context) (string, error) {
	dir := filepath.Join(s.work, "seeder")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, fileName)
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "peer"), "generate",
		"--size", s.cfg.size, "--seed", strconv.FormatUint(s.cfg.seed, 10), "--out", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("generate: %w: %s", err, out)
	}
	return path, nil
}

func (s *swarm) startSeeder(ctx context.Context, source string) error {
	args := append([]string{"seed", "--file", source, "--piece-size", s.cfg.pieceSize}, s.peerArgs("seeder")...)
	_, err := s.start(ctx, "seeder", "peer", args...)
	return err
}

func (s *swarm) startLeechers(ctx context.Context) ([]*leecher, time.Time) {
	start := time.Now()
	leechers := make([]*leecher, s.cfg.peers)
	for i := range leechers {
		l := &leecher{name: fmt.Sprintf("leecher-%02d", i+1), dir: filepath.Join(s.work, fmt.Sprintf("leecher-%02d", i+1))}
		leechers[i] = l
		if err := os.MkdirAll(l.dir, 0o755); err != nil {
			l.err = err
			continue
		}
		args := append([]string{"get", "--dir", l.dir, "--exit-on-complete"}, s.peerArgs(l.name)...)
		l.started = time.Now()
		l.cmd, l.err = s.start(ctx, l.name, "peer", args...)
	}
	return leechers, start
}

// peerArgs are the flags every peer shares: the tracker, the swarm, its own port and name.
func (s *swarm) peerArgs(name string) []string {
	port, err := freePort()
	if err != nil {
		port = 0
	}
	// Every peer of the demo is on 127.0.0.1: one address's shares of the connection slots and
	// of the half-open pool are raised so that everyone fits, as on a cluster where each pod
	// has its own IP.
	everyone := strconv.Itoa(max(s.cfg.peers+10, 50))
	args := []string{
		"--tracker", s.tracker, "--swarm", swarmName, "--name", name,
		"--listen", "127.0.0.1:" + strconv.Itoa(port), "--metrics-addr", "",
		"--max-peers-per-ip", everyone, "--max-half-open", everyone, "--max-half-open-per-ip", everyone,
	}
	return append(args, strings.Fields(s.cfg.extra)...)
}

func (s *swarm) start(ctx context.Context, name, binary string, args ...string) (*exec.Cmd, error) {
	logFile, err := os.Create(filepath.Join(s.work, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, binary), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s.mu.Lock()
	s.procs = append(s.procs, cmd)
	s.mu.Unlock()
	return cmd, nil
}

// waitAll waits for every leecher process; the seeder and tracker keep running until stopAll.
func (s *swarm) waitAll(leechers []*leecher) {
	var wg sync.WaitGroup
	for _, l := range leechers {
		if l.cmd == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.cmd.Wait(); err != nil {
				l.err = fmt.Errorf("%s exited: %w (log: %s.log)", l.name, err, l.name)
			}
			l.ended = time.Now()
		}()
	}
	wg.Wait()
}

func (s *swarm) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		if p.ProcessState == nil && p.Process != nil {
			_ = p.Process.Signal(os.Interrupt)
		}
	}
	for _, p := range s.procs {
		if p.ProcessState == nil {
			_ = p.Wait()
		}
	}
}

func freePort() (int, error) {
	l, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
