// Package sim is a deterministic swarm simulator over the peer's protocol core: many
// core.Core instances wired by an in-memory network with per-peer upload and download rates,
// link latency and a virtual clock, playing the shell's part (package peer) for each of them.
// The same Scenario and seed always give the same Result, in a fraction of the wall time the
// swarm would take over TCP.
//
// One event queue orders everything by virtual time (ties by the order of scheduling); all
// randomness comes from math/rand/v2's PCG seeded from Scenario.Seed, and every collection that
// decides an order is a slice, never a map. The simulator applies each core's effects as the
// shell would: messages reach the other end after the link's latency, in order; a peer's
// upload rate is shared by its connections round robin, a batch of blocks at a time (the
// session's token bucket and writer loop); pieces are verified (really hashed when
// Scenario.Verify is set, else declared good); hash requests are answered from the true
// content; a finished download gets FileComplete. Peers join, announce to a tracker that
// returns a random sample of the others, dial what their core's directory says is due, admit
// incoming connections through their core's slots, and leave at the times their PeerSpec
// gives.
package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
)

// Defaults of a Scenario's zero fields.
const (
	// DefaultNumWant is the tracker's sample per announce (the peer's default, the note's 5).
	DefaultNumWant = 5
	// DefaultMaxPeers bounds each peer's connections (the peer's default).
	DefaultMaxPeers = 50
	// DefaultChokeInterval is the choking round's period (the peer's default, the note's 10 s).
	DefaultChokeInterval = 10 * time.Second
	// DefaultAnnounceInterval is how often a peer asks the tracker again (the tracker's default
	// interval).
	DefaultAnnounceInterval = 30 * time.Second
	// DefaultDeadline is the virtual time after which a run stops unfinished.
	DefaultDeadline = time.Hour
	// DefaultStartJitter spreads the peers' start (and so their timers' phases) over this span,
	// as processes started together do.
	DefaultStartJitter = 50 * time.Millisecond
)

// Scenario describes one simulated swarm. Zero fields take the defaults above.
type Scenario struct {
	// Seed decides every random choice: the tracker's samples, the start jitter and each core's
	// Config.Seed.
	Seed uint64
	// FileSize and PieceSize shape the torrent (generated content, internal/generate).
	FileSize, PieceSize int64
	// Peers are the swarm's members (Swarm builds the common ones).
	Peers []PeerSpec
	// Latency is every link's one-way delay.
	Latency time.Duration
	// NumWant is how many peers the tracker returns per announce; MaxPeers bounds a peer's
	// connections (core.Config.MaxPeers: its core's admission refuses the rest) unless its
	// PeerSpec says otherwise.
	NumWant, MaxPeers int
	// ChokeInterval is the choking round's period; AnnounceInterval the re-announce period (each
	// answer goes to the core's directory, which says whom to dial).
	ChokeInterval, AnnounceInterval time.Duration
	// DialSeeders makes every leecher dial every seeder when it joins, besides the tracker's
	// sample (the lab gives each leecher the seeder's address).
	DialSeeders bool
	// PieceStrategy is every peer's picker (rarest first by default).
	PieceStrategy core.PieceStrategy
	// Verify hashes every received piece (meta.VerifyPiece) and sends real content. It is
	// required when some peer is corrupt (PeerSpec.CorruptEvery); without it blocks carry zeros
	// and every piece is declared good, which is several times faster.
	Verify bool
	// VerifyDelay is how long after its last block a piece's outcome comes.
	VerifyDelay time.Duration
	// CheckInvariants calls core.CheckInvariants after every event applied to a core; a broken
	// invariant stops the run with an error.
	CheckInvariants bool
	// Deadline stops the run unfinished at this virtual time.
	Deadline time.Duration
	// StartJitter spreads the start of the peers that join at the same time (negative: not).
	StartJitter time.Duration
	// Tweak, if set, adjusts each core's configuration (peer index, config) before it starts.
	Tweak func(i int, cfg *core.Config)

	onSample func(*Sim) // tests: called at every progress sample
}

// Role is a peer's part in the swarm.
type Role uint8

const (
	// Leecher starts with no piece.
	Leecher Role = iota
	// Seeder starts with every piece.
	Seeder
)

func (r Role) String() string {
	if r == Seeder {
		return "seeder"
	}
	return "leecher"
}

// PeerSpec is one member of the swarm.
type PeerSpec struct {
	Role Role
	// Upload and Download are its rates in bytes/s; 0 is unlimited.
	Upload, Download int64
	// FreeRider never unchokes anybody (core.Config.NoUpload).
	FreeRider bool
	// SuperSeed hides a seeder's pieces and offers them a few at a time (BEP 16).
	SuperSeed bool
	// SeedsOnly downloads only from complete peers.
	SeedsOnly bool
	// CorruptEvery > 0 makes it send every block of each piece whose index is a multiple of
	// CorruptEvery with its first byte flipped (1: every piece). Requires Scenario.Verify.
	CorruptEvery int
	// JoinAt is when it joins; LeaveAt, if after JoinAt, when it leaves.
	JoinAt, LeaveAt time.Duration
	// MaxPeers, if positive, bounds its connections instead of Scenario.MaxPeers.
	MaxPeers int
	// MaxBufferedBytes, if positive, bounds its partial pieces (core.Config.MaxBufferedBytes).
	MaxBufferedBytes int64
}

// honest reports whether the peer sends only good blocks.
func (p PeerSpec) honest() bool { return p.CorruptEvery <= 0 }

// Swarm returns the peers of a common scenario: seeders then leechers, all with upload rate
// rate (0: unlimited).
func Swarm(seeders, leechers int, rate int64) []PeerSpec {
	peers := make([]PeerSpec, 0, seeders+leechers)
	for range seeders {
		peers = append(peers, PeerSpec{Role: Seeder, Upload: rate})
	}
	for range leechers {
		peers = append(peers, PeerSpec{Role: Leecher, Upload: rate})
	}
	return peers
}

// withDefaults fills the zero fields.
func (sc Scenario) withDefaults() Scenario {
	sc.NumWant = orDefault(sc.NumWant, DefaultNumWant)
	sc.MaxPeers = orDefault(sc.MaxPeers, DefaultMaxPeers)
	sc.ChokeInterval = orDefault(sc.ChokeInterval, DefaultChokeInterval)
	sc.AnnounceInterval = orDefault(sc.AnnounceInterval, DefaultAnnounceInterval)
	sc.Deadline = orDefault(sc.Deadline, DefaultDeadline)
	if sc.StartJitter == 0 {
		sc.StartJitter = DefaultStartJitter
	}
	return sc
}

// orDefault is v, or def when v is zero or negative.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// validate reports a scenario the simulator cannot run.
func (sc Scenario) validate() error {
	if len(sc.Peers) == 0 {
		return errors.New("sim: no peers")
	}
	if sc.FileSize <= 0 || sc.PieceSize <= 0 {
		return fmt.Errorf("sim: file size %d and piece size %d must be positive", sc.FileSize, sc.PieceSize)
	}
	for i, p := range sc.Peers {
		if !p.honest() && !sc.Verify {
			return fmt.Errorf("sim: peer %d is corrupt: the scenario must verify pieces (Verify)", i)
		}
		if p.Upload < 0 || p.Download < 0 {
			return fmt.Errorf("sim: peer %d has a negative rate", i)
		}
	}
	return nil
}

// Sim is one run of a Scenario. It is not safe for concurrent use.
type Sim struct {
	sc      Scenario
	content *content
	rng     *rand.Rand
	now     time.Duration
	seq     uint64
	events  queue
	nodes   []*node // by index in sc.Peers
	nextID  uint64  // link ids, in order of dialling
	res     Result
	err     error
	trace   uint64 // FNV-1a over the events applied
	zeros   []byte // the payload of every block when Verify is off

	byAddr     map[netip.AddrPort]*node // peers by listen address (the tracker's answers)
	joinsDue   int                      // peers that have not joined yet
	unfinished int                      // leechers present and not finished
	copies     []int                    // verified copies of each piece outside the seeders
	missing    int                      // pieces with no copy outside the seeders
}

// Run simulates sc to its end (every leecher present has finished and nobody is due to join)
// or its deadline.
func Run(sc Scenario) (Result, error) {
	sc = sc.withDefaults()
	if err := sc.validate(); err != nil {
		return Result{}, err
	}
	ct, err := contentFor(sc.Seed, sc.FileSize, sc.PieceSize)
	if err != nil {
		return Result{}, err
	}
	s := &Sim{sc: sc, content: ct, rng: rand.New(rand.NewPCG(sc.Seed, 0x5157)), trace: fnvOffset}
	s.zeros = make([]byte, maxBlock)
	s.byAddr = make(map[netip.AddrPort]*node)
	s.joinsDue = len(sc.Peers)
	s.copies = make([]int, ct.meta.NumPieces())
	s.missing = len(s.copies)
	s.setup()
	s.loop()
	return s.result(), s.err
}

// loop applies events until the swarm is done, the deadline passes or an invariant breaks.
func (s *Sim) loop() {
	for s.err == nil {
		e := s.next()
		if e == nil || e.at > s.sc.Deadline {
			s.res.TimedOut = e != nil
			return
		}
		s.res.Events++
		s.traceEvent(e)
		s.apply(e)
		if s.done() {
			return
		}
	}
}

// fnvOffset and fnvPrime are FNV-1a's 64-bit constants.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// traceEvent folds an event's time, kind and peer into the run's fingerprint.
func (s *Sim) traceEvent(e *event) {
	idx := -1
	if e.node != nil {
		idx = e.node.idx
	}
	for _, v := range [...]uint64{uint64(e.at), uint64(e.kind), uint64(idx), uint64(len(e.msgs))} {
		s.trace = (s.trace ^ v) * fnvPrime
	}
}
