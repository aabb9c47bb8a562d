package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/tracker"
)

// sampleInterval is how often every peer's counters are read: the 100 ms.
const sampleInterval = 100 * time.Millisecond

// leecherBufferBytes bounds each leecher's partial pieces in memory (the default 64 MiB times
// 100 in-process peers would not fit).
const leecherBufferBytes = 8 << 20

// source is one generated file and its torrent, shared by the runs of a scenario.
type source struct {
	path   string
	meta   *metainfo.MetaInfo
	sha256 string
}

// makeSource writes a deterministic payload of size bytes under dir (one file, or a directory
// of files files when files > 1) and hashes it.
func makeSource(dir string, size, pieceSize int64, seed uint64, files int) (*source, error) {
	path := filepath.Join(dir, fmt.Sprintf("source-%d-%d-%d.bin", size, pieceSize, seed))
	var err error
	if files > 1 {
		path = filepath.Join(dir, fmt.Sprintf("source-%d-%d-%d-%d", size, pieceSize, seed, files))
		err = generate.WriteTree(path, seed, generate.TreeLayout(size, files), false)
	} else {
		err = generate.WriteFile(path, seed, size)
	}
	if err != nil {
		return nil, err
	}
	meta, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: pieceSize})
	if err != nil {
		return nil, err
	}
	sum, err := generate.PayloadDigest(path)
	if err != nil {
		return nil, err
	}
	return &source{path: path, meta: meta, sha256: sum}, nil
}

// labTracker is the swarm's tracker on a loopback port: in this process, or a child process
// (trackerproc.go).
type labTracker struct {
	url  string
	stop func()
	once sync.Once
	proc *trackerProcess // nil in-process
}

// startTracker starts the lab's tracker, in a child process when child is set.
func startTracker(child bool) (*labTracker, error) {
	if child {
		return startTrackerProcess()
	}
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tr := tracker.NewServer(labTrackerConfig())
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = tr.Run(ctx) }()
	srv := &http.Server{Handler: tr, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		cancel()
		_ = srv.Close()
	}
	return &labTracker{url: "http://" + ln.Addr().String(), stop: stop}, nil
}

// kill stops the tracker (experiment 4); the peers keep trading with whom they know.
func (t *labTracker) kill() { t.once.Do(t.stop) }

// labPeer is one running session of a swarm.
type labPeer struct {
	index      int // 0 is the seeder
	role       string
	path       string
	capBps     int64
	sess       *peer.Session
	cancel     context.CancelFunc
	errc       chan error
	doneAt     time.Duration // since the swarm's start; 0 until done
	verifiedAt time.Duration // its last piece verified (before the sync and rename); 0 until done
	killedAt   time.Duration // 0 unless killed
	mu         sync.Mutex    // guards doneAt, verifiedAt and killedAt
	stopOnce   sync.Once
}

func (p *labPeer) done() (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.doneAt, p.doneAt > 0
}

// verified is when the peer's last piece was verified, before the sync and rename.
func (p *labPeer) verified() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.verifiedAt
}

func (p *labPeer) killed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killedAt > 0
}

// stop ends the session and waits for it (at most a minute); later calls return at once.
func (p *labPeer) stop() {
	p.stopOnce.Do(func() {
		p.cancel()
		select {
		case <-p.errc: //nolint:errcheck // the session's end; Run logs its own errors
		case <-time.After(time.Minute):
		}
	})
}

// startPeer creates and runs a session; a goroutine records when it completes.
func startPeer(cfg peer.Config, index int, role string, start time.Time) (*labPeer, error) {
	s, err := peer.New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &labPeer{index: index, role: role, path: cfg.Path, capBps: cfg.UploadRate, sess: s, cancel: cancel, errc: make(chan error, 1)}
	go func() { p.errc <- s.Run(ctx) }()
	go func() {
		select {
		case <-s.Done():
			st := s.Stats()
			p.mu.Lock()
			p.doneAt = time.Since(start)
			p.verifiedAt = p.doneAt - (st.TimeToComplete - st.TimeToVerify)
			p.mu.Unlock()
		case <-ctx.Done():
		}
	}()
	return p, nil
}

// discardLogger keeps the sessions quiet: only errors, to stderr.
func discardLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
