package peer

import "github.com/minibit-io/minibit/internal/peer/core"

// The core's names that the session's users (flags, the lab, tests) configure it with.
type (
	// ChokerConfig configures whom the peer uploads to (core.ChokerConfig).
	ChokerConfig = core.ChokerConfig
	// ChokeStrategy is how the choker ranks peers (core.ChokeStrategy).
	ChokeStrategy = core.ChokeStrategy
	// PieceStrategy is how the next piece is chosen (core.PieceStrategy).
	PieceStrategy = core.PieceStrategy
)

// Choke and piece strategies.
const (
	TitForTat   = core.TitForTat
	Rarity      = core.Rarity
	RarestFirst = core.RarestFirst
	RandomPiece = core.RandomPiece
)

// Defaults of the core's knobs (core/config.go, core/slots.go).
const (
	DefaultMaxHalfOpen      = core.DefaultMaxHalfOpen
	DefaultMaxHalfOpenPerIP = core.DefaultMaxHalfOpenPerIP
	DefaultMaxPeersPerIP    = core.DefaultMaxPeersPerIP
	DefaultOutgoingSlots    = core.DefaultOutgoingSlots
	DefaultEvictIdleAfter   = core.DefaultEvictIdleAfter
	DefaultRequestQueueTime = core.DefaultRequestQueueTime
	DefaultMinRequestDepth  = core.DefaultMinRequestDepth
	DefaultMaxRequestDepth  = core.DefaultMaxRequestDepth
	DefaultRequestTimeout   = core.DefaultRequestTimeout
	DefaultRateWindow       = core.DefaultRateWindow
)

// DefaultChokerConfig returns the design note's choker (core.DefaultChokerConfig).
func DefaultChokerConfig() ChokerConfig { return core.DefaultChokerConfig() }

// ParseChokeStrategy parses a choke strategy's name.
func ParseChokeStrategy(s string) (ChokeStrategy, error) { return core.ParseChokeStrategy(s) }

// ParsePieceStrategy parses a piece strategy's name; "" is RarestFirst.
func ParsePieceStrategy(s string) (PieceStrategy, error) { return core.ParsePieceStrategy(s) }
