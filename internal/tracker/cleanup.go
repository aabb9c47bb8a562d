package tracker

import (
	"context"
	"time"
)

// This file is the design note's dead-peer cleanup: a peer not heard from for PeerTTL (5 min)
// is dropped, and so is a swarm left with no peers and no stored torrent.

// reapInterval is how often the reaper runs: a tenth of the TTL, between 1 s and 30 s, so that
// a dead peer is gone at most 10 % after its TTL (sampling already skips it before that).
func reapInterval(ttl time.Duration) time.Duration {
	return min(max(ttl/10, time.Second), 30*time.Second)
}

// runReaper reaps every reapInterval until ctx ends.
func (s *Server) runReaper(ctx context.Context) {
	ticker := time.NewTicker(reapInterval(s.cfg.PeerTTL))
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			s.reap()
		}
	}
}

// reap drops dead peers and empty swarms now, counts and logs them.
func (s *Server) reap() {
	peers, swarms := s.reg.reap(s.cfg.Now())
	if peers > 0 || swarms > 0 {
		s.metrics.PeersReaped.Add(float64(peers))
		s.log.Info("Reaped dead peers", "peers", peers, "swarms", swarms, "ttl", s.cfg.PeerTTL)
	}
}

// reap drops every peer whose last announce is PeerTTL or more before now, then every swarm
// left without peers and without a stored torrent. It returns how many of each it dropped.
func (r *registry) reap(now time.Time) (peers, swarms int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for hash, s := range r.swarms {
		for i := len(s.order) - 1; i >= 0; i-- {
			if p := s.order[i]; !r.alive(p, now) {
				r.removePeer(s, p)
				peers++
			}
		}
		if len(s.order) == 0 && s.torrent == nil {
			delete(r.swarms, hash)
			swarms++
		}
	}
	return peers, swarms
}
