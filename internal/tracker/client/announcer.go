package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minibit-io/minibit/internal/backoff"
	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/protocol"
)

// This file is the design note's heartbeat: one peer's announce loop. It announces "started",
// then every interval (the tracker's, the note's 30 s by default), and "stopped" on shutdown.
// "completed" is the one event sent outside the loop, by Completed, at once and synchronously:
// only when every attempt of it fails do the next heartbeats carry it. Each announce is retried
// with backoff.Default; when every attempt fails the loop logs, counts and waits for the next
// heartbeat: a dead tracker is not fatal, the swarm goes on with the peers it knows.

// Defaults of AnnouncerConfig.
const (
	// DefaultStopTimeout bounds the "stopped" announce on shutdown.
	DefaultStopTimeout = 5 * time.Second
	// DefaultPeerBuffer is how many peer batches wait for the consumer before new ones are
	// dropped (the next heartbeat brings more).
	DefaultPeerBuffer = 16
)

// AnnouncerConfig configures an Announcer; zero fields take defaults.
type AnnouncerConfig struct {
	// Client talks to the tracker (required).
	Client *Client
	// InfoHash, PeerID, Port and Name identify the peer, as in AnnounceRequest.
	InfoHash, PeerID [20]byte
	Port             int
	Name             string
	// NumWant is the sample size asked for; 0 lets the tracker choose (the note's 5).
	NumWant int
	// Stats reads the peer's byte totals at each announce (required).
	Stats func() (uploaded, downloaded, left int64)
	// Bitfield, when set, reads the peer's BEP 3 bitfield at each announce while it has bytes
	// left (the dashboard's piece map; see AnnounceRequest.Bitfield). Nil sends none.
	Bitfield func() []byte
	// Health, when set, reads how the peer's connections stand at each announce. Nil sends none.
	Health func() api.PeerHealth
	// Interval is the heartbeat until the tracker names one; 0 is protocol.DefaultInterval (30 s).
	Interval time.Duration
	// Retry is the policy of each announce; the zero value is backoff.Default.
	Retry backoff.Policy
	// StopTimeout bounds the "stopped" announce; 0 is DefaultStopTimeout.
	StopTimeout time.Duration
	// PeerBuffer is the capacity of Peers(); 0 is DefaultPeerBuffer.
	PeerBuffer int
	// Logger receives the loop's logs; nil logs nothing.
	Logger *slog.Logger
}

// Announcer runs one peer's heartbeat loop with the tracker. Run drives it; Completed and the
// counters may be called from any goroutine.
type Announcer struct {
	cfg        AnnouncerConfig
	log        *slog.Logger
	peers      chan []netip.AddrPort
	completing chan struct{} // capacity 1: held by the Completed call that is announcing

	failures, retries, dropped atomic.Int64

	mu       sync.Mutex // guards started and complete
	started  bool       // the tracker heard of the peer (a "started" or "completed" succeeded)
	complete completion // how far the "completed" event got

	interval time.Duration // owned by Run: the tracker's heartbeat, or cfg.Interval before it answers
}

// completion is how far an Announcer's "completed" event got.
type completion int

const (
	completionNone    completion = iota // Completed was not called
	completionPending                   // Completed failed: the heartbeats carry the event
	completionDone                      // the tracker heard it
)

// NewAnnouncer checks cfg and returns an Announcer; call Run to start it.
func NewAnnouncer(cfg AnnouncerConfig) (*Announcer, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("tracker: announcer needs a Client")
	case cfg.Stats == nil:
		return nil, errors.New("tracker: announcer needs Stats")
	case cfg.Port < 1 || cfg.Port > 65535:
		return nil, fmt.Errorf("tracker: announcer port %d out of range", cfg.Port)
	}
	setDefault(&cfg.Interval, protocol.DefaultInterval)
	setDefault(&cfg.StopTimeout, DefaultStopTimeout)
	setDefault(&cfg.PeerBuffer, DefaultPeerBuffer)
	if cfg.Retry == (backoff.Policy{}) {
		cfg.Retry = backoff.Default
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Announcer{
		cfg: cfg, log: log.With("infoHash", fmt.Sprintf("%x", cfg.InfoHash)),
		peers: make(chan []netip.AddrPort, cfg.PeerBuffer), completing: make(chan struct{}, 1),
		interval: cfg.Interval,
	}, nil
}

// setDefault sets *v to def when it is zero.
func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// Peers delivers the peers of each successful announce. It is bounded: when the consumer lags,
// new batches are dropped (and counted) until it catches up.
func (a *Announcer) Peers() <-chan []netip.AddrPort { return a.peers }

// Completed announces "completed" at once and waits for the answer, retrying per the config's
// policy while ctx lasts, and returns the last error. Once the tracker heard the event, later
// calls return nil at once and the heartbeats never send it; while it has not (every attempt
// failed), each heartbeat carries it. Run need not be running.
func (a *Announcer) Completed(ctx context.Context) error {
	resp, _, err := a.announceCompleted(ctx)
	if err == nil {
		a.deliver(resp.Peers)
	}
	return err
}

// announceCompleted sends "completed" unless the tracker heard it already (then sent is false),
// one sender at a time: Completed and a heartbeat that carries a failed one never both send it.
func (a *Announcer) announceCompleted(ctx context.Context) (resp AnnounceResponse, sent bool, err error) {
	select {
	case a.completing <- struct{}{}:
	case <-ctx.Done():
		return resp, false, fmt.Errorf("tracker: completed announce: %w", context.Cause(ctx))
	}
	defer func() { <-a.completing }()
	if a.completion() == completionDone {
		return resp, false, nil
	}
	if resp, err = a.announce(ctx, "completed", a.cfg.Retry); err != nil {
		a.mu.Lock()
		a.complete = completionPending
		a.mu.Unlock()
		return resp, false, err
	}
	a.heard("completed")
	return resp, true, nil
}

// completion is how far the "completed" event got.
func (a *Announcer) completion() completion {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.complete
}

// Failures counts heartbeats whose every attempt failed.
func (a *Announcer) Failures() int64 { return a.failures.Load() }

// Retries counts announce attempts after the first of each announce (a heartbeat, Completed's or
// the stopped one).
func (a *Announcer) Retries() int64 { return a.retries.Load() }

// Dropped counts peer batches dropped because Peers() was full.
func (a *Announcer) Dropped() int64 { return a.dropped.Load() }

// Run announces "started" at once, then every interval, until ctx ends; then it announces
// "stopped" (within StopTimeout) and returns nil.
func (a *Announcer) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			a.stop()
			return nil
		case <-timer.C:
		}
		a.heartbeat(ctx)
		timer.Reset(a.interval)
	}
}

// heartbeat sends the pending event (started, then a completed that Completed could not send)
// or a plain announce. After a successful "started" with "completed" pending, it sends that at
// once too.
func (a *Announcer) heartbeat(ctx context.Context) {
	for {
		event := a.nextEvent()
		resp, sent, err := a.send(ctx, event)
		if err != nil {
			if ctx.Err() == nil {
				a.failures.Add(1)
				a.log.Warn("Tracker unreachable; keeping the known peers until the next heartbeat",
					"event", event, "next", a.interval, "err", err)
			}
			return
		}
		if !sent {
			continue // Completed sent it meanwhile: a plain heartbeat instead
		}
		a.heard(event)
		if resp.Interval > 0 {
			a.interval = resp.Interval
		}
		a.deliver(resp.Peers)
		if event != "started" || a.nextEvent() != "completed" {
			return
		}
	}
}

// send announces event, "completed" through announceCompleted; sent is false when Completed sent
// that meanwhile.
func (a *Announcer) send(ctx context.Context, event string) (resp AnnounceResponse, sent bool, err error) {
	if event == "completed" {
		return a.announceCompleted(ctx)
	}
	resp, err = a.announce(ctx, event, a.cfg.Retry)
	return resp, err == nil, err
}

// nextEvent is the event the next heartbeat carries.
func (a *Announcer) nextEvent() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case !a.started:
		return "started"
	case a.complete == completionPending:
		return "completed"
	default:
		return ""
	}
}

// heard records that the tracker answered an announce of event: it knows the peer, and a
// "completed" is never sent again.
func (a *Announcer) heard(event string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.started = a.started || event != "stopped"
	if event == "completed" {
		a.complete = completionDone
	}
}

// announce sends one announce with the peer's current totals, retried per policy; a failure
// reason from the tracker is not retried.
func (a *Announcer) announce(ctx context.Context, event string, policy backoff.Policy) (AnnounceResponse, error) {
	uploaded, downloaded, left := a.cfg.Stats()
	req := AnnounceRequest{
		InfoHash: a.cfg.InfoHash, PeerID: a.cfg.PeerID, Port: a.cfg.Port, Name: a.cfg.Name,
		Uploaded: uploaded, Downloaded: downloaded, Left: left, Event: event, NumWant: a.cfg.NumWant,
	}
	a.addExtensions(&req)
	var resp AnnounceResponse
	attempt := 0
	err := backoff.Retry(ctx, policy, func(ctx context.Context) error {
		if attempt++; attempt > 1 {
			a.retries.Add(1)
		}
		var err error
		resp, err = a.cfg.Client.Announce(ctx, req)
		if _, refused := errors.AsType[*FailureError](err); refused {
			return backoff.Permanent(err)
		}
		return err
	})
	return resp, err
}

// addExtensions adds the MiniBit extensions the config asks for: the bitfield while the peer
// has bytes left and is not stopping, and its health.
func (a *Announcer) addExtensions(req *AnnounceRequest) {
	if req.Event == "stopped" {
		return
	}
	if a.cfg.Bitfield != nil && req.Left > 0 {
		req.Bitfield = a.cfg.Bitfield()
	}
	if a.cfg.Health != nil {
		h := a.cfg.Health()
		req.Health = &h
	}
}

// deliver hands peers to the consumer without blocking the heartbeat.
func (a *Announcer) deliver(peers []netip.AddrPort) {
	if len(peers) == 0 {
		return
	}
	select {
	case a.peers <- peers:
	default:
		a.dropped.Add(1)
		a.log.Debug("Peer consumer lags; dropped a batch", "peers", len(peers))
	}
}

// stop announces "stopped" within StopTimeout, if the tracker ever heard of the peer. A
// "completed" still being sent goes first, so that "stopped" is the tracker's last word.
func (a *Announcer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.StopTimeout)
	defer cancel()
	select {
	case a.completing <- struct{}{}:
		defer func() { <-a.completing }()
	case <-ctx.Done():
	}
	a.mu.Lock()
	started := a.started
	a.mu.Unlock()
	if !started {
		return
	}
	if _, err := a.announce(ctx, "stopped", a.cfg.Retry); err != nil {
		a.log.Warn("Could not tell the tracker we stopped; it will drop us after its peer TTL", "err", err)
		return
	}
	a.log.Info("Told the tracker we stopped")
}
