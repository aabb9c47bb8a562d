// Package core is a MiniBit peer's protocol core: every decision of a peer in one state machine
// with no sockets, goroutines, disk or clock ("sans-IO", after quinn-proto, rustls and h11). It
// is fed events (a peer connected, a message came, a piece verified, a timer fired, a choking
// round) with the time, and returns effects (send a message, close a connection, verify a
// piece, serve hashes, log). The shell (package peer) owns the sockets, the reader and writer
// goroutines, the disk, the verification workers, the timers and the tracker, and calls the
// core under one mutex. The same core runs in the deterministic swarm simulator (package
// peer/sim) over an in-memory network and a virtual clock.
//
// One file per concept: the piece picker (picker.go, rarest first; endgame.go) and the
// download book it keeps (book.go: every requested block once, with its holders and times,
// every started piece once, with its buffer), the request pipeline (requests.go), piece buffers
// (buffers.go), a received block (blocks.go), verification outcomes (verification.go), parole
// and bans (parole.go, bans.go, blame.go), choking policy and mechanics (choker.go,
// choking.go), the peer's requests to us (uploads.go), super-seeding (superseed.go), the
// connection registry (registry.go), connection slots (slots.go, admission.go), the peer
// directory fed by announce answers (directory.go), the messages (messages.go), configuration
// (config.go), the invariants tests check after every event (invariants.go).
package core

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/wire"
)

// ConnKey is the core's handle for one connection, as the Picker and the Choker know it.
type ConnKey uint64

// Block is one request: Length bytes at Begin in Piece. Length is wire.BlockSize (16 KiB) except
// for the last block of a piece whose length is not a multiple of it.
type Block struct{ Piece, Begin, Length int }

// blockLength is the size of one request (16 KiB), the unit of the pipeline.
const blockLength = wire.BlockSize

// Core is one peer's protocol state in one swarm. It is not safe for concurrent use: its
// owner (the session's mutex, or the simulator) serializes the events.
type Core struct {
	cfg      Config
	meta     *metainfo.MetaInfo
	pipeline pipelineConfig
	picker   *Picker
	choker   *Choker
	buffers  *bufferPool
	bans     *BanList
	have     wire.Bitfield // our verified pieces
	complete bool          // the file is finished (verified, written, renamed)

	conns    map[ConnKey]*peerConn
	order    []*peerConn // the connections by key: every walk over them sees one order
	byID     map[[20]byte]*peerConn
	nextKey  ConnKey
	paroled  int // connections on parole
	limits   slotLimits
	halfOpen halfOpenPool // accepted connections in their handshake
	slots    slotCounts   // established connections, dials under way, admitted handshakes
	known    map[netip.AddrPort]*knownPeer
	rng      *rand.Rand

	offers  []int32 // super-seeding: how often each piece was offered (BEP 16)
	sources sources // who sent the verified pieces
	blame   blameState

	info       []byte               // the info dict served by ut_metadata (extension.go), made on first use
	layerTrees map[int][][][32]byte // the trees above served piece layers (piecelayer.go), by file

	upMeter, dnMeter *rateMeter
	counters         Counters

	out, spent []Effect
	scratch    []Block
	servedSeq  uint64        // counts the upload scheduler's picks (schedule.go)
	mask       wire.Bitfield // scratch for Pick when peers are on parole
}

// Counters are the core's totals since it started.
type Counters struct {
	BytesUploaded, BytesDownloaded int64
	HashFailures                   int64
	RequestTimeouts                int64
	HashRequestsSent               int64
	HashRequestsServed             int64
	HashRequestsRejected           int64
	Refusals                       [NumRefusals]int64 // connections refused, by reason
	Evictions                      int64
	DialRetries                    int64
	MetadataPiecesServed           int64 // ut_metadata pieces sent (BEP 9, extension.go)
	MetadataRequestsRejected       int64
}

// New returns a core for cfg at time now. bans is the session's ban list (shared with the
// shell's accept and dial paths; it locks itself); nil makes one.
func New(cfg Config, bans *BanList, now time.Time) (*Core, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if bans == nil {
		bans = NewBanList(DefaultMaxBans)
	}
	meta := cfg.Torrent
	rng := rand.New(rand.NewPCG(cfg.RandSeed, cfg.RandSeed>>1|1))
	c := &Core{
		cfg:  cfg,
		meta: meta,
		pipeline: pipelineConfig{
			QueueTime: cfg.RequestQueueTime, MaxDepth: cfg.MaxRequestDepth,
			MinDepth: minDepthFor(cfg.MinRequestDepth, meta.Info.PieceLength),
		},
		picker:   NewPicker(meta.NumPieces(), meta.PieceLen, rng),
		choker:   NewChoker(cfg.Choker, rng),
		buffers:  newBufferPool(int(meta.Info.PieceLength), BufferCount(cfg.MaxBufferedBytes, meta.Info.PieceLength)),
		bans:     bans,
		have:     wire.NewBitfield(meta.NumPieces()),
		conns:    make(map[ConnKey]*peerConn),
		byID:     make(map[[20]byte]*peerConn),
		offers:   make([]int32, meta.NumPieces()),
		upMeter:  newRateMeter(cfg.RateWindow, now),
		dnMeter:  newRateMeter(cfg.RateWindow, now),
		limits:   limitsOf(cfg),
		halfOpen: newHalfOpenPool(),
		slots:    newSlotCounts(),
		known:    make(map[netip.AddrPort]*knownPeer),
		rng:      rng,
	}
	c.picker.SetStrategy(cfg.PieceStrategy)
	c.picker.useBuffers(c.buffers)
	for i, ok := range cfg.Have {
		if ok && i < meta.NumPieces() {
			c.picker.MarkHave(i)
			c.have.Set(i)
		}
	}
	return c, nil
}

// HaveCount is the number of verified pieces.
func (c *Core) HaveCount() int { return c.picker.HaveCount() }

// AllVerified reports whether every piece is verified (the file may not be finished yet).
func (c *Core) AllVerified() bool { return c.picker.Complete() }

// Have reports whether piece is verified.
func (c *Core) Have(piece int) bool { return c.picker.Have(piece) }

// HaveBitfield returns a copy of our verified pieces.
func (c *Core) HaveBitfield() wire.Bitfield { return c.have.Clone() }

// Counters returns the core's totals.
func (c *Core) Counters() Counters { return c.counters }

// BytesLeft is the size of the pieces we miss.
func (c *Core) BytesLeft() int64 {
	n := c.meta.NumPieces()
	left := int64(n-c.picker.HaveCount()) * c.meta.Info.PieceLength
	if last := n - 1; last >= 0 && !c.picker.Have(last) {
		left -= c.meta.Info.PieceLength - int64(c.meta.PieceLen(last))
	}
	return left
}

// SourcesSummary is "addr=pieces" for the top peers that sent blocks of verified pieces, and
// how many peers sent any.
func (c *Core) SourcesSummary(top int) (peers int, text string) { return c.sources.summary(top) }
