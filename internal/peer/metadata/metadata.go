// Package metadata fetches a torrent from its swarm's peers when only its v1 info-hash is
// known: the info dict by the metadata extension (BEP 9 over BEP 10), checked against the
// info-hash (SHA-1, and the v2 info-hash when given), then each file's piece layer by BEP 52
// hash requests, each answer proven against the file's pieces root. Several peers are used at
// once over real TCP; a peer that sends a piece or a hash that does not check, or that stalls,
// is dropped. Every network operation has a deadline and everything a peer can make it hold is
// bounded (Config.MaxInfoBytes, wire's message bounds).
package metadata

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// Defaults of Config.
const (
	// DefaultMaxPeers is how many peers are connected at once.
	DefaultMaxPeers = 8
	// DefaultDialTimeout bounds a dial and a handshake (the design note's network timeout).
	DefaultDialTimeout = 10 * time.Second
	// DefaultStallTimeout drops a peer that leaves a request of ours unanswered this long.
	DefaultStallTimeout = 10 * time.Second
	// DefaultMaxInfoBytes bounds the info dict when the caller gives no bound.
	DefaultMaxInfoBytes = 64 << 20
)

// Errors of Fetch.
var (
	// ErrNoPeer is returned when no peer gave the torrent before the context ended or every
	// peer was tried.
	ErrNoPeer = errors.New("metadata: no peer gave the torrent")
	// ErrInvalidInfo is returned when the info dict matches the info-hash but does not parse:
	// the swarm's torrent itself is bad, no other peer can do better.
	ErrInvalidInfo = errors.New("metadata: the info dict does not parse")
)

// Config is what Fetch needs.
type Config struct {
	// InfoHash is the swarm's v1 info-hash (the handshake's).
	InfoHash [20]byte
	// InfoHashV2, when not zero, is checked too (the SHA-256 of the info dict).
	InfoHashV2 [32]byte
	// PeerID is ours in the handshakes.
	PeerID [20]byte
	// Peers are the addresses to try, in order.
	Peers []netip.AddrPort
	// Announce is the MetaInfo's announce URL (it is outside the info dict).
	Announce string
	// MaxInfoBytes bounds the info dict a peer may announce (metainfo.MaxTorrentBytesFor);
	// 0 is DefaultMaxInfoBytes.
	MaxInfoBytes int64
	// MaxPeers, DialTimeout and StallTimeout: 0 takes the defaults above.
	MaxPeers     int
	DialTimeout  time.Duration
	StallTimeout time.Duration
	// Log receives the peers dropped and the outcome; nil discards.
	Log *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxPeers <= 0 {
		c.MaxPeers = DefaultMaxPeers
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = DefaultStallTimeout
	}
	if c.MaxInfoBytes <= 0 {
		c.MaxInfoBytes = DefaultMaxInfoBytes
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Fetch returns the complete torrent (info dict and every piece layer) of cfg.InfoHash from
// cfg.Peers, or ErrNoPeer when none gave it before ctx ended or every peer failed. Give ctx a
// deadline: it bounds the whole fetch.
func Fetch(ctx context.Context, cfg Config) (*metainfo.MetaInfo, error) {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := newFetch(cfg, cancel)
	var wg sync.WaitGroup
	slots := make(chan struct{}, cfg.MaxPeers)
	for _, addr := range cfg.Peers {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			f.runPeer(ctx, addr)
		})
	}
	wg.Wait()
	return f.result()
}

// fetch is the state shared by the peers' goroutines, under mu.
type fetch struct {
	cfg    Config
	cancel context.CancelFunc

	mu     sync.Mutex
	info   infoState
	meta   *metainfo.MetaInfo // set once the info dict checked and parsed
	layers *layerState        // the piece layers still missing, once meta is set
	done   bool
	err    error // a fatal error (ErrInvalidInfo)
}

func newFetch(cfg Config, cancel context.CancelFunc) *fetch {
	return &fetch{cfg: cfg, cancel: cancel}
}

// result is Fetch's answer once every peer's goroutine ended.
func (f *fetch) result() (*metainfo.MetaInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.err != nil:
		return nil, f.err
	case f.done:
		return f.meta, nil
	}
	return nil, ErrNoPeer
}

// checkInfo checks an assembled info dict against the info-hashes; a dict that matches but does
// not parse ends the fetch with ErrInvalidInfo. Called under mu.
func (f *fetch) checkInfo(info []byte) bool {
	if sha1.Sum(info) != f.cfg.InfoHash {
		return false
	}
	if f.cfg.InfoHashV2 != ([32]byte{}) && sha256.Sum256(info) != f.cfg.InfoHashV2 {
		f.err = fmt.Errorf("%w: its SHA-256 is not the swarm's v2 info-hash", ErrInvalidInfo)
		f.cancel()
		return true
	}
	meta, err := metainfo.FromInfoBytes(info, f.cfg.Announce)
	if err != nil {
		f.err = fmt.Errorf("%w: %w", ErrInvalidInfo, err)
		f.cancel()
		return true
	}
	f.meta = meta
	f.layers = newLayerState(meta)
	f.cfg.Log.Info("Info dict fetched from peers", "bytes", len(info), "files", len(meta.Info.Files),
		"pieceLayers", len(meta.NeedsPieceLayers()))
	f.finishIfComplete()
	return true
}

// finishIfComplete ends the fetch once every piece layer is in. Called under mu.
func (f *fetch) finishIfComplete() {
	if f.meta != nil && len(f.meta.NeedsPieceLayers()) == 0 && !f.done {
		f.done = true
		f.cancel()
	}
}
