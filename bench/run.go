package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/peer"
)

// swarmSpec is one swarm to run: who takes part, their links, the engine's knobs and the faults.
type swarmSpec struct {
	Leechers  int
	Size      int64
	PieceSize int64
	// Files > 1 shares a model-like directory of that many files (generate.TreeLayout)
	// totalling Size instead of one file.
	Files int
	// UploadCap caps every peer's upload (bytes/s; 0: uncapped); SeederCap the seeder's when set.
	UploadCap, SeederCap int64
	// FastPeers leechers get FastCap instead of UploadCap (mixed capacities).
	FastPeers int
	FastCap   int64
	// ClientServer: the leechers download only from the seeder and upload nothing.
	ClientServer bool
	// FreeRiders leechers never upload.
	FreeRiders int
	// PieceStrategy is which missing piece is fetched first ("": rarest first).
	PieceStrategy peer.PieceStrategy
	Choker        peer.ChokerConfig // zero: the engine's default (tit-for-tat, 4 + 1 slots)
	// ChokeInterval is how often the slots are given again (0: the note's 10 s).
	ChokeInterval time.Duration
	// SuperSeed makes the seeder offer pieces one by one (BEP 16).
	SuperSeed bool
	// SeederLeaves stops the seeder once every piece exists at some leecher.
	SeederLeaves bool
	// KillAt stops a third of the leechers at these fractions of the expected makespan.
	KillAt []float64
	// KillTrackerAt stops the tracker at this fraction of the expected makespan (0: never).
	KillTrackerAt float64
	// Timeout ends a run that does not finish.
	Timeout time.Duration
	// Client is who the peers are: "" MiniBit sessions, clientLibtorrent libtorrent 2.0's
	// (libtorrent.go).
	Client string
	// MaxPeers bounds each leecher's connections (0: the engine's default, 50).
	MaxPeers int
	// OwnAddresses gives every session its own loopback address (127.0.x.y), as pods on a
	// cluster have: on one address, the kernel's search for a free port at each dial's bind
	// grows with the connections already bound (limits.go).
	OwnAddresses bool
	// TrackerProcess runs the tracker as a child process, so that its memory is measured apart
	// from the peers' (the scale scenario).
	TrackerProcess bool
	// Storage is where the run's files go: storageMemory (a directory under /dev/shm, when it is
	// a tmpfs with room: storage.go) or "" and storageDisk, the lab's work directory on disk.
	Storage string
}

// seederCap is the seeder's upload cap.
func (s swarmSpec) seederCap() int64 {
	if s.SeederCap > 0 {
		return s.SeederCap
	}
	return s.UploadCap
}

// leecherCap is leecher i's upload cap.
func (s swarmSpec) leecherCap(i int) int64 {
	if i < s.FastPeers {
		return s.FastCap
	}
	return s.UploadCap
}

// leecherRole is "fast", "free-rider" or "leecher": the first FastPeers are fast, the last
// FreeRiders ride free.
func (s swarmSpec) leecherRole(i int) string {
	switch {
	case i < s.FastPeers:
		return "fast"
	case i >= s.Leechers-s.FreeRiders:
		return "free-rider"
	}
	return "leecher"
}

// swarm is one run in progress.
type swarm struct {
	spec    swarmSpec
	src     *source
	dir     string
	start   time.Time
	tracker *labTracker
	peers   []*labPeer // [0] is the seeder
}

// runSwarm runs spec once on src, in a fresh directory under workDir, and returns its record.
func runSwarm(ctx context.Context, spec swarmSpec, src *source, workDir string, expected time.Duration) (*runRecord, error) {
	dir, err := os.MkdirTemp(workDir, "run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sw := &swarm{spec: spec, src: src, dir: dir}
	if sw.tracker, err = startTracker(spec.TrackerProcess); err != nil {
		return nil, err
	}
	defer sw.tracker.kill()
	if spec.Client == clientLibtorrent {
		return sw.runLibtorrent(ctx)
	}
	baseline := baselineMemory()
	cpu0 := readCPU()
	sw.start = time.Now()
	defer sw.stopAll()
	if err := sw.startPeers(); err != nil {
		return nil, err
	}
	rec := sw.observe(ctx, expected)
	cpu1 := readCPU()
	rec.CPU = cpu1.since(cpu0)
	rec.CPUSelf = cpu1.self - cpu0.self + sw.tracker.usage(&rec.Memory)
	rec.Memory.BaselineBytes = baseline
	sw.stopAll()
	rec.AllVerified = sw.verify(rec)
	return rec, nil
}

// startPeers starts the seeder, then every leecher at once (a flash crowd).
func (sw *swarm) startPeers() error {
	seed, err := startPeer(sw.seederConfig(), 0, "seeder", sw.start)
	if err != nil {
		return fmt.Errorf("seeder: %w", err)
	}
	sw.peers = append(sw.peers, seed)
	for i := range sw.spec.Leechers {
		p, err := startPeer(sw.leecherConfig(i, seed.sess.Addr()), i+1, sw.spec.leecherRole(i), sw.start)
		if err != nil {
			return fmt.Errorf("leecher %d: %w", i, err)
		}
		sw.peers = append(sw.peers, p)
	}
	return nil
}

// baseConfig is what every peer of the swarm shares.
func (sw *swarm) baseConfig() peer.Config {
	cfg := peer.DefaultConfig()
	cfg.Torrent = sw.src.meta
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.TrackerURL = sw.tracker.url
	cfg.Logger = discardLogger()
	cfg.NoFileHash = true // the lab hashes every copy itself, after the run
	// Every peer of the lab is on 127.0.0.1: one address's shares of the slots and of the
	// half-open pool would turn the lab's flash crowd away. Everyone fits, as on a cluster
	// where each pod has its own IP.
	everyone := sw.spec.Leechers + 10
	cfg.MaxPeersPerIP = everyone
	cfg.MaxHalfOpen, cfg.MaxHalfOpenPerIP = everyone, everyone
	cfg.PieceStrategy = sw.spec.PieceStrategy
	if sw.spec.Choker != (peer.ChokerConfig{}) {
		cfg.Choker = sw.spec.Choker
	}
	if sw.spec.ChokeInterval > 0 {
		cfg.ChokeInterval = sw.spec.ChokeInterval
	}
	return cfg
}

func (sw *swarm) seederConfig() peer.Config {
	cfg := sw.baseConfig()
	if sw.spec.OwnAddresses {
		cfg.ListenAddr = ownLoopbackAddr(0)
	}
	cfg.Path = sw.src.path
	cfg.Seed, cfg.Trusted = true, true
	cfg.SuperSeed = sw.spec.SuperSeed
	cfg.UploadRate = sw.spec.seederCap()
	cfg.MaxPeers = sw.spec.Leechers + 10 // every leecher is given the seeder's address
	if sw.spec.ClientServer {
		cfg.Choker.UnchokeSlots = sw.spec.Leechers // a server serves every client at once
	}
	return cfg
}

func (sw *swarm) leecherConfig(i int, seeder netip.AddrPort) peer.Config {
	cfg := sw.baseConfig()
	if sw.spec.OwnAddresses {
		cfg.ListenAddr = ownLoopbackAddr(i + 1)
	}
	cfg.Path = filepath.Join(sw.dir, fmt.Sprintf("leecher-%03d", i), sw.src.meta.Info.Name)
	cfg.Peers = []netip.AddrPort{seeder}
	cfg.UploadRate = sw.spec.leecherCap(i)
	cfg.MaxBufferedBytes = leecherBufferBytes
	if sw.spec.MaxPeers > 0 {
		cfg.MaxPeers = sw.spec.MaxPeers
	}
	cfg.NoUpload = sw.spec.ClientServer || sw.spec.leecherRole(i) == "free-rider"
	cfg.SeedsOnly = sw.spec.ClientServer
	return cfg
}

// stopAll stops every session still running, all at once (each may wait for its last
// announce).
func (sw *swarm) stopAll() {
	var wg sync.WaitGroup
	for _, p := range sw.peers {
		wg.Go(p.stop)
	}
	wg.Wait()
}

// verify checks every completed leecher's file against the source's SHA-256 and records it.
func (sw *swarm) verify(rec *runRecord) bool {
	return verifyCopies(rec, sw.src.sha256, func(i int) string { return sw.peers[i].path })
}

// verifyCopies checks the copy at pathOf(i) of every completed leecher i of rec against the
// payload's digest sum and records it.
func verifyCopies(rec *runRecord, sum string, pathOf func(int) string) bool {
	all := true
	for i := range rec.Peers {
		pr := &rec.Peers[i]
		if pr.Role == "seeder" || pr.Killed {
			continue
		}
		if pr.DoneS == 0 {
			all = false
			continue
		}
		got, err := generate.PayloadDigest(pathOf(i))
		pr.Verified = err == nil && got == sum
		all = all && pr.Verified
	}
	return all
}
