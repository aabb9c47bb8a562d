// Package peer is one MiniBit peer: it downloads a torrent's file from other peers and serves
// the pieces it has (the design note's concept 2: every peer is client and server). The session
// ties together the piece picker (rarest first), the choker (tit-for-tat), storage (positional
// I/O on one file), the connections (BEP 3 wire protocol with the fast extension), the request
// pipeline, the ban list and the tracker's heartbeat.
package peer

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/wire"
)

// Session defaults not owned by a more specific file.
const (
	// DefaultListenAddr is BitTorrent's customary port.
	DefaultListenAddr = ":6881"
	// DefaultMaxPeers bounds the connections of a session.
	DefaultMaxPeers = core.DefaultMaxPeers
	// DefaultNumWant is how many peers we ask the tracker for: the note's sample of min(5, others).
	DefaultNumWant = 5
	// DefaultChokeInterval is how often the choker decides whom to upload to: the note's 10 s.
	DefaultChokeInterval = 10 * time.Second
	// DefaultMaxBufferedBytes bounds the memory of partial pieces (piece buffers) in flight.
	DefaultMaxBufferedBytes = core.DefaultMaxBufferedBytes
	// DefaultProgressInterval is how often progress is logged when stderr is not a terminal.
	DefaultProgressInterval = 5 * time.Second
)

// Config is everything a Session needs. DefaultConfig holds the design note's numbers; the
// caller sets at least Torrent and Path.
type Config struct {
	// Config holds the protocol core's knobs (core.Config): the torrent, the choker, the request
	// pipeline, the connection slots, the piece strategy, free-riding, seeds-only and
	// super-seeding. The session sets its Have from the file.
	core.Config
	// Path is the file's final path. A download is written to Path+".part" and renamed to Path
	// only once every piece is verified.
	Path string
	// Seed says the file at Path is complete: it must verify (unless Trusted) or New fails.
	Seed bool
	// Trusted skips the start-up verification of a seeded file (it was just hashed to create
	// the torrent).
	Trusted bool
	// ListenAddr is where incoming connections are accepted ("127.0.0.1:0" picks a port).
	ListenAddr string
	// PeerID is this peer's 20-byte id; the zero value picks a random "-MB0001-..." id.
	PeerID [20]byte
	// Name is sent to the tracker with each announce (a pod or host name).
	Name string
	// TrackerURL is the tracker's base URL; empty means no tracker (use Peers).
	TrackerURL string
	// Peers are addresses dialled at start besides those from the tracker (tests, static swarms).
	Peers []netip.AddrPort
	// Timeout bounds every dial, write and tracker request: the note's 10 s.
	Timeout time.Duration
	// IdleTimeout drops a peer that sent nothing for so long; KeepAliveInterval keeps ours alive.
	IdleTimeout       time.Duration
	KeepAliveInterval time.Duration
	// NumWant is how many peers to ask the tracker for (the note: 5).
	NumWant int
	// HandshakeTimeout is how long an accepted connection may take to send its handshake.
	HandshakeTimeout time.Duration
	// ChokeInterval is how often the choker decides whom to upload to (the note: 10 s).
	ChokeInterval time.Duration
	// UploadRate and DownloadRate cap this peer's total transfer in bytes/s; 0 is no cap.
	UploadRate, DownloadRate int64
	// NoFileHash skips the whole-file SHA-256 logged at completion ("download verified
	// sha256=..."): every piece is verified anyway; the swarm lab hashes the copies itself.
	NoFileHash bool
	// ExitOnComplete makes Run return once the verified file is in place.
	ExitOnComplete bool
	// WantSHA256, when set (64 hex digits), is the whole file's SHA-256: the file is
	// read back and checked before the session calls itself complete (before the rename from
	// .part, Done and the "completed" announce). A mismatch fails the session; until the check
	// passes, announces say 1 byte is left.
	WantSHA256 string
	// Progress, when set, receives a progress bar (a terminal) or the logger gets a progress line
	// every ProgressInterval (otherwise).
	Progress         io.Writer
	ProgressInterval time.Duration
	// Logger receives the session's structured logs; nil means slog.Default().
	Logger *slog.Logger
	// BeforeDone, when set, runs once the verified file is under its final name, before Done is
	// closed and the tracker hears "completed" (until then announces say 1 byte is left): the
	// node cache records and links its copy there. An error fails the session.
	BeforeDone func() error
	// V1Twin also serves the torrent's v1-only twin (metainfo.EncodeV1Twin) to v1-only clients:
	// handshakes under its info-hash are accepted, the peers the tracker lists under it dialled
	// with it, and the session announces under both info-hashes (twin.go).
	V1Twin bool

	// checkInvariants makes the session check the core's invariants after every event and
	// panic if one breaks (this package's tests set it).
	checkInvariants bool
}

// DefaultConfig returns a Config with the design note's numbers and no torrent.
func DefaultConfig() Config {
	return Config{
		Config:            core.DefaultConfig(),
		ListenAddr:        DefaultListenAddr,
		Timeout:           DefaultTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		KeepAliveInterval: DefaultKeepAliveInterval,
		NumWant:           DefaultNumWant,
		HandshakeTimeout:  DefaultHandshakeTimeout,
		ChokeInterval:     DefaultChokeInterval,
		ProgressInterval:  DefaultProgressInterval,
	}
}

// withDefaults fills every zero knob from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Config = c.WithDefaults() // the core's knobs
	if c.ListenAddr == "" {
		c.ListenAddr = d.ListenAddr
	}
	for _, v := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&c.Timeout, d.Timeout}, {&c.IdleTimeout, d.IdleTimeout}, {&c.KeepAliveInterval, d.KeepAliveInterval},
		{&c.ChokeInterval, d.ChokeInterval}, {&c.ProgressInterval, d.ProgressInterval},
		{&c.HandshakeTimeout, d.HandshakeTimeout},
	} {
		if *v.v <= 0 {
			*v.v = v.def
		}
	}
	if c.NumWant <= 0 {
		c.NumWant = d.NumWant
	}
	if c.PeerID == [20]byte{} {
		c.PeerID = NewPeerID()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// NewPeerID returns a random peer id in Azureus style: "-MB0001-" and 12 random bytes.
func NewPeerID() [20]byte {
	var id [20]byte
	copy(id[:], "-MB0001-")
	_, _ = crand.Read(id[8:])
	return id
}

// Session is one peer in one swarm: the shell around its protocol core (package core). The
// core decides; the session owns the listener, the connections' reader and writer goroutines,
// the file, the verification workers, the timers, the dialer and the tracker. Create it with
// New, then call Run.
type Session struct {
	cfg             Config
	meta            *metainfo.MetaInfo
	log             *slog.Logger
	store           *storage
	writes          *writeBehind     // verified pieces on their way to store
	bans            *core.BanList    // the core's; it locks itself (accept and dial check it too)
	upSched         *uploadScheduler // nil without an upload cap
	downLimit       *rateLimiter
	infoHashV1      [20]byte
	infoHashV2Short [20]byte  // the v2 info-hash truncated to 20 bytes (BEP 52 handshakes)
	verify          *verifier // complete pieces on their way to the hash check
	ln              net.Listener
	started         time.Time
	done            chan struct{} // closed when the verified file is under its final name
	ctx             context.Context
	cancel          context.CancelCauseFunc
	wg              sync.WaitGroup // connection and helper goroutines
	completeOnce    sync.Once
	closeOnce       sync.Once

	// Counters of the shell, updated atomically from any goroutine.
	trackerRetries atomic.Int64
	completedNanos atomic.Int64 // time to complete, 0 until then
	verifiedNanos  atomic.Int64 // time until every piece was verified, 0 until then

	// Owner: mu guards the core and the shell's connections by key (lock order: mu, then a
	// connection's queue lock or the ban list's).
	mu    sync.Mutex
	core  *core.Core
	conns map[core.ConnKey]*conn
	batch []wire.Message // scratch: consecutive sends to one connection, queued at once

	dialer    *dialer    // dials what the core's directory says is due
	announcer *announcer // nil without a tracker
	twin      *twin      // nil without Config.V1Twin
}

// New opens the file (verifying what it holds) and listens on cfg.ListenAddr. Run starts the
// session; a Session that is not run should be closed with Close.
func New(cfg Config) (*Session, error) {
	if cfg.Torrent == nil {
		return nil, errors.New("peer: no torrent")
	}
	if cfg.Path == "" {
		return nil, errors.New("peer: no file path")
	}
	cfg = cfg.withDefaults()
	if err := cfg.coreConfig(nil).Validate(); err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	meta := cfg.Torrent
	store, have, err := openStorage(meta, cfg.Path, cfg.Seed, cfg.Trusted)
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", cfg.ListenAddr)
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("peer: listen on %s: %w", cfg.ListenAddr, err)
	}
	s, err := newSession(cfg, store, ln, have)
	if err == nil {
		s.announcer, err = s.newAnnouncer()
	}
	if err != nil {
		_ = store.Close()
		_ = ln.Close()
		return nil, err
	}
	s.log.Info("Session ready", "file", cfg.Path, "listen", ln.Addr().String(),
		"pieces", s.core.HaveCount(), "total", meta.NumPieces(), "pieceLength", meta.Info.PieceLength)
	return s, nil
}

// coreConfig is the core's share of the configuration, with the pieces found on disk.
func (c Config) coreConfig(have []bool) core.Config {
	cc := c.Config
	cc.Have = have
	if cc.RandSeed == 0 {
		cc.RandSeed = rand.Uint64()
	}
	return cc
}

func newSession(cfg Config, store *storage, ln net.Listener, have []bool) (*Session, error) {
	meta := cfg.Torrent
	now := time.Now()
	bans := core.NewBanList(core.DefaultMaxBans)
	cr, err := core.New(cfg.coreConfig(have), bans, now)
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	v2 := meta.InfoHashV2()
	s := &Session{
		cfg:        cfg,
		meta:       meta,
		log:        cfg.Logger.With("torrent", meta.Info.Name),
		store:      store,
		bans:       bans,
		downLimit:  newRateLimiter(cfg.DownloadRate),
		infoHashV1: meta.InfoHashV1(),
		ln:         ln,
		started:    now,
		done:       make(chan struct{}),
		core:       cr,
		conns:      make(map[core.ConnKey]*conn),
		verify:     newVerifier(verifyQueue(cfg)),
	}
	copy(s.infoHashV2Short[:], v2[:20])
	s.writes = newWriteBehind(store, writeBehindLimit(cfg), s.fail)
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	s.dialer = newDialer(s)
	s.upSched = newUploadScheduler(s, newRateLimiter(cfg.UploadRate))
	if s.twin, err = newTwin(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// Addr is the address the session accepts connections on.
func (s *Session) Addr() netip.AddrPort {
	if a, ok := s.ln.Addr().(*net.TCPAddr); ok {
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

// PeerID is this session's peer id.
func (s *Session) PeerID() [20]byte { return s.cfg.PeerID }

// Done is closed when the verified file is in place under its final name (at once for a seeder).
func (s *Session) Done() <-chan struct{} { return s.done }

// Run accepts and dials peers, trades pieces and announces to the tracker until ctx ends (or,
// with ExitOnComplete, until the file is complete). It returns nil on such an end, or the error
// that stopped the session (a disk error, for example). Run closes the session when it returns.
func (s *Session) Run(ctx context.Context) error {
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.cancel(nil) })
	defer stop()
	if s.allVerified() {
		s.onComplete(false)
	}
	s.goRun(s.acceptLoop)
	s.goRun(s.tickLoop)
	if s.upSched != nil {
		s.goRun(s.upSched.run)
	}
	for range verifyWorkers() {
		s.goRun(s.verifyLoop)
	}
	s.goRun(s.writes.run)
	s.goRun(s.dialer.run)
	s.goRun(func() { s.announcer.run(s) })
	if s.cfg.Progress != nil {
		s.goRun(func() { s.reportProgress(s.cfg.Progress) })
	}
	if s.cfg.ExitOnComplete {
		select {
		case <-s.done:
			s.announcer.completedNow(s.ctx, s)
			s.cancel(nil)
		case <-s.ctx.Done():
		}
	}
	<-s.ctx.Done()
	s.shutdown()
	if err := context.Cause(s.ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// fail stops the session with err (Run returns it).
func (s *Session) fail(err error) {
	s.log.Error("Session failed", "err", err)
	s.cancel(err)
}

// goRun runs f in a goroutine that shutdown waits for.
func (s *Session) goRun(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// shutdown closes the listener and every connection, tells the tracker we stopped and waits
// for the session's goroutines.
func (s *Session) shutdown() {
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.close(nil)
	}
	s.mu.Unlock()
	s.writes.close() // the writer ends once what it holds is on disk
	s.wg.Wait()
}

// Close releases the file and the listener. Run calls it; call it only for a Session never run.
func (s *Session) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.cancel(nil)
		_ = s.ln.Close()
		err = s.store.Close()
	})
	return err
}

// acceptLoop accepts incoming connections until the listener closes. A banned address, or one
// the half-open pool refuses, is closed at once, before any goroutine is spent on it.
func (s *Session) acceptLoop() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				s.log.Warn("Accept failed", "err", err)
				continue
			}
			return
		}
		addr := remoteAddrPort(nc)
		h, r := s.openHalf(nc, addr)
		if r != core.NotRefused {
			_ = nc.Close()
			continue
		}
		s.goRun(func() {
			if err := s.runIncoming(nc, h, addr); err != nil {
				s.log.Debug("Incoming connection ended", "peer", addr, "err", err)
			}
		})
	}
}

// tickLoop runs the periodic work: request timeouts every second, choking rounds every
// ChokeInterval.
func (s *Session) tickLoop() {
	second := time.NewTicker(time.Second)
	defer second.Stop()
	choke := time.NewTicker(s.cfg.ChokeInterval)
	defer choke.Stop()
	s.event(func(c *core.Core) { c.ChokeRound(time.Now()) })
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-second.C:
			s.event(func(c *core.Core) { c.Tick(now) })
		case now := <-choke.C:
			s.event(func(c *core.Core) { c.ChokeRound(now) })
		}
	}
}

// runIncoming runs an accepted connection from handshake to close: the peer's handshake within
// HandshakeTimeout, then admission to an established slot (refused without an answer unless
// the peer id is a duplicate: the dialler then learns it is connected already), then ours.
func (s *Session) runIncoming(nc net.Conn, h *core.HalfOpen, addr netip.AddrPort) error {
	defer nc.Close()
	stop := context.AfterFunc(s.ctx, func() { _ = nc.Close() }) // shutdown ends a handshake too
	defer stop()
	theirs, ours, err := s.readHandshake(nc, false)
	if err != nil {
		s.closeHalf(h, addr, err)
		return err
	}
	if r := s.admitIncoming(h, addr, theirs.PeerID); r != core.NotRefused {
		if r == core.RefusedDuplicateID {
			_ = s.writeHandshake(nc, ours)
			return errDuplicate
		}
		return errRefused{r}
	}
	if err := s.writeHandshake(nc, ours); err != nil {
		s.releaseSlot(addr, false)
		return err
	}
	return s.serve(s.twin.mark(newConn(s, nc, peerInfo(theirs, addr, false)), ours))
}

// runOutgoing runs a dialled connection, whose slot the dialer reserved, from handshake to
// close. addr is the address dialled (the peer's listen address).
func (s *Session) runOutgoing(nc net.Conn, addr netip.AddrPort) error {
	defer nc.Close()
	stop := context.AfterFunc(s.ctx, func() { _ = nc.Close() }) // shutdown ends a handshake too
	defer stop()
	theirs, ours, err := s.readHandshake(nc, true)
	if err != nil {
		s.releaseSlot(addr, true)
		s.log.Debug("Handshake failed", "peer", addr, "outgoing", true, "err", err)
		return err
	}
	return s.serve(s.twin.mark(newConn(s, nc, peerInfo(theirs, addr, true)), ours))
}

// serve registers a connection past its handshake and runs it until it closes.
func (s *Session) serve(c *conn) error {
	if err := s.register(c); err != nil {
		return err
	}
	s.log.Debug("Peer connected", "peer", c.addr, "outgoing", c.outgoing, "fast", c.info.Fast, "v1Twin", c.twin != nil)
	s.goRun(c.writeLoop)
	err := c.readLoop()
	c.close(err)
	s.unregister(c)
	if err := c.closeErr; !isRoutineClose(err) {
		s.log.Info("Peer disconnected", "peer", c.addr, "err", err)
	} else {
		s.log.Debug("Peer disconnected", "peer", c.addr, "err", err)
	}
	return nil
}

// peerInfo is what the core is told of a connection past its handshakes.
func peerInfo(theirs wire.Handshake, addr netip.AddrPort, outgoing bool) core.PeerInfo {
	return core.PeerInfo{ID: theirs.PeerID, Addr: addr, Outgoing: outgoing, Fast: theirs.Fast(), Hashes: theirs.Hashes(),
		Extended: theirs.Extended()}
}

// Errors that refuse a connection.
var (
	errBanned       = core.ErrBanned
	errDuplicate    = core.ErrDuplicate
	errShuttingDown = errors.New("the session is shutting down")
)

// errRefused is a connection refused by admission.
type errRefused struct{ reason core.Refusal }

func (e errRefused) Error() string { return "connection refused: " + e.reason.String() }

func remoteAddrPort(nc net.Conn) netip.AddrPort {
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

// register adds a connection past its handshake, which holds a reserved slot, to the core,
// unless the session is stopping, the peer is banned or its id is connected already (the core
// refuses those and frees the slot). The core queues our bitfield.
func (s *Session) register(c *conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		s.core.ReleaseSlot(c.addr, c.outgoing)
		return errShuttingDown // shutdown may have closed every connection already
	}
	key, err := s.core.Connect(time.Now(), c.info)
	if err == nil {
		c.key = key
		s.conns[key] = c
	}
	s.applyLocked()
	return err
}

// unregister removes a closed connection: the core forgets it (its requests go to others, its
// slot is free, its address may be redialled) unless it dropped it already.
func (s *Session) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns[c.key] != c {
		return
	}
	delete(s.conns, c.key)
	s.core.Disconnected(time.Now(), c.key)
	s.applyLocked()
}
