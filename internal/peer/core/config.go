package core

import (
	"fmt"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// Defaults of the core's knobs. Where a number comes from the design note, docs/architecture.md
// says so; the lab's measurements behind the others are in docs/benchmarks.md.
const (
	// DefaultRequestQueueTime is how much of a connection's measured rate we keep requested
	// (after libtorrent's request_queue_time, shortened for a cluster's sub-millisecond round
	// trips: a deep queue at one capped uploader holds blocks no other uploader may serve).
	DefaultRequestQueueTime = 100 * time.Millisecond
	// DefaultMinRequestDepth is the pipeline depth of a new or slow (but not snubbed) connection.
	DefaultMinRequestDepth = 4
	// DefaultMaxRequestDepth caps the pipeline (256 blocks: 4 MiB in flight).
	DefaultMaxRequestDepth = 256
	// DefaultRequestTimeout is how long a connection with requests outstanding may stay silent
	// before they are handed to other peers and it is snubbed: the network timeout.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultMaxPeerRequests bounds the requests a peer may have queued at us; more is a flood
	// and the connection is closed.
	DefaultMaxPeerRequests = 500
	// DefaultMaxBufferedBytes bounds the memory of partial pieces (piece buffers) in flight.
	DefaultMaxBufferedBytes = 64 << 20
	// DefaultMaxPeers bounds the connections of a peer, with the dials under way.
	DefaultMaxPeers = 50
	// DefaultRateWindow is the sliding window over which transfer rates are measured: long
	// enough to smooth TCP's bursts, short enough for the choker to see a peer slow down.
	DefaultRateWindow = 20 * time.Second
)

// Config is what the core decides with: the torrent and the protocol's knobs. Zero values take
// the defaults above.
type Config struct {
	// Torrent is the swarm's metainfo.
	Torrent *metainfo.MetaInfo
	// Have lists the pieces verified on disk at start (nil: none).
	Have []bool
	// Choker configures whom we upload to (policy: choker.go; mechanics: choking.go).
	Choker ChokerConfig
	// RateWindow is the sliding window of the transfer rates.
	RateWindow time.Duration
	// RequestQueueTime, MinRequestDepth and MaxRequestDepth size each connection's request
	// pipeline; RequestTimeout snubs a silent peer and bounds a hash request's wait.
	RequestQueueTime time.Duration
	MinRequestDepth  int
	MaxRequestDepth  int
	RequestTimeout   time.Duration
	// MaxPeerRequests is how many requests a peer may queue at us before it counts as a flood.
	MaxPeerRequests int
	// MaxBufferedBytes bounds the piece buffers of partial pieces.
	MaxBufferedBytes int64
	// PieceStrategy is how the next piece is chosen: RarestFirst (the default) or RandomPiece.
	PieceStrategy PieceStrategy
	// NoUpload never unchokes anybody (a free-rider); SeedsOnly downloads only from complete
	// peers; SuperSeed hides a complete peer's pieces and offers them a few at a time (BEP 16).
	NoUpload, SeedsOnly, SuperSeed bool
	// MaxPeers bounds the established connections, with the dials under way; MaxPeersPerIP is
	// one IP address's share; OutgoingSlots are kept for our own dials (at most half of
	// MaxPeers; negative: none); MaxHalfOpen and MaxHalfOpenPerIP bound the accepted
	// connections in their handshake; EvictIdleAfter is how long a connection must have
	// brought nothing before a newcomer may take its slot (slots.go).
	MaxPeers, MaxPeersPerIP, OutgoingSlots int
	MaxHalfOpen, MaxHalfOpenPerIP          int
	EvictIdleAfter                         time.Duration
	// RandSeed seeds the core's random choices (piece ties, the first piece, optimistic
	// unchokes, redial jitter): the same seed and the same events give the same decisions.
	RandSeed uint64
}

// DefaultConfig returns the defaults of every knob, and no torrent.
func DefaultConfig() Config { return Config{}.WithDefaults() }

// WithDefaults fills every zero knob.
func (c Config) WithDefaults() Config {
	setDuration := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setDuration(&c.RateWindow, DefaultRateWindow)
	setDuration(&c.RequestQueueTime, DefaultRequestQueueTime)
	setDuration(&c.RequestTimeout, DefaultRequestTimeout)
	setInt(&c.MinRequestDepth, DefaultMinRequestDepth)
	setInt(&c.MaxRequestDepth, DefaultMaxRequestDepth)
	setInt(&c.MaxPeerRequests, DefaultMaxPeerRequests)
	setInt(&c.MaxPeers, DefaultMaxPeers)
	setInt(&c.MaxPeersPerIP, DefaultMaxPeersPerIP)
	setInt(&c.MaxHalfOpen, DefaultMaxHalfOpen)
	setInt(&c.MaxHalfOpenPerIP, DefaultMaxHalfOpenPerIP)
	setDuration(&c.EvictIdleAfter, DefaultEvictIdleAfter)
	if c.OutgoingSlots == 0 {
		c.OutgoingSlots = DefaultOutgoingSlots
	}
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if c.Choker == (ChokerConfig{}) {
		c.Choker = DefaultChokerConfig()
	}
	return c
}

// Validate reports a configuration the core cannot honour.
func (c Config) Validate() error {
	if c.Torrent == nil {
		return fmt.Errorf("no torrent")
	}
	if err := c.Choker.Validate(); err != nil {
		return err
	}
	_, err := ParsePieceStrategy(string(c.PieceStrategy))
	return err
}
