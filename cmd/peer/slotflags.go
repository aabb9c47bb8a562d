package main

import (
	"flag"
	"time"

	"github.com/minibit-io/minibit/internal/peer"
)

// slotFlags are the connection slot limits of seed and get: what one address may hold of the
// half-open and established connections, the slots kept for our dials, and eviction.
type slotFlags struct {
	maxPeersPerIP, outgoingSlots  int
	maxHalfOpen, maxHalfOpenPerIP int
	handshakeTimeout, evictIdle   time.Duration
}

func (f *slotFlags) add(fs *flag.FlagSet, d peer.Config) {
	fs.IntVar(&f.maxPeersPerIP, "max-peers-per-ip", d.MaxPeersPerIP, "most connections with one IP address, of --max-peers")
	fs.IntVar(&f.outgoingSlots, "outgoing-slots", d.OutgoingSlots, "slots of --max-peers kept for our own dials (at most half; 0 keeps none)")
	fs.IntVar(&f.maxHalfOpen, "max-half-open", d.MaxHalfOpen, "most accepted connections still in their handshake")
	fs.IntVar(&f.maxHalfOpenPerIP, "max-half-open-per-ip", d.MaxHalfOpenPerIP, "most connections in their handshake from one IP address")
	fs.DurationVar(&f.handshakeTimeout, "handshake-timeout", d.HandshakeTimeout, "time a connection has to complete its handshake")
	fs.DurationVar(&f.evictIdle, "evict-idle-after", d.EvictIdleAfter,
		"when every slot is taken, a newcomer evicts a connection that brought nothing (no interest, no data) for this long")
}

func (f *slotFlags) check() error {
	if f.maxPeersPerIP < 1 || f.maxHalfOpen < 1 || f.maxHalfOpenPerIP < 1 {
		return usagef("--max-peers-per-ip, --max-half-open and --max-half-open-per-ip must be positive")
	}
	if f.outgoingSlots < 0 || f.handshakeTimeout <= 0 || f.evictIdle <= 0 {
		return usagef("--outgoing-slots must not be negative; --handshake-timeout and --evict-idle-after must be positive")
	}
	return nil
}

func (f *slotFlags) apply(cfg *peer.Config) {
	cfg.MaxPeersPerIP = f.maxPeersPerIP
	cfg.OutgoingSlots = f.outgoingSlots
	if f.outgoingSlots == 0 {
		cfg.OutgoingSlots = -1 // the Config's zero means the default
	}
	cfg.MaxHalfOpen = f.maxHalfOpen
	cfg.MaxHalfOpenPerIP = f.maxHalfOpenPerIP
	cfg.HandshakeTimeout = f.handshakeTimeout
	cfg.EvictIdleAfter = f.evictIdle
}
