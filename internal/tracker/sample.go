package tracker

import "time"

// This file is the design note's "random sample excluding the asker":
// random.sample(others, min(numwant, len(others))).

// sample appends to dst at most k live peers of s other than self (nil when the asker is not a
// member), chosen uniformly at random without repetition. It costs O(k), not O(swarm): a partial
// Fisher-Yates shuffle of s.order, with self first moved to the end, out of the drawn range.
// Peers past their TTL that the reaper has not dropped yet are skipped; a few extra draws replace
// them, so that a swarm with many dead peers may answer with fewer than k.
func (r *registry) sample(s *swarm, self *peer, k int, now time.Time, dst []peerEntry) []peerEntry {
	others := len(s.order)
	if self != nil {
		swapPeers(s.order, self.slot, others-1)
		others--
	}
	maxDraws := min(others, 2*k+8)
	for i, found := 0, 0; i < maxDraws && found < k; i++ {
		swapPeers(s.order, i, i+r.rng.IntN(others-i))
		if p := s.order[i]; r.alive(p, now) {
			dst = append(dst, peerEntry{id: p.id, addr: p.addr})
			found++
		}
	}
	return dst
}

// swapPeers exchanges the peers at i and j of order and keeps their slots right.
func swapPeers(order []*peer, i, j int) {
	order[i], order[j] = order[j], order[i]
	order[i].slot, order[j].slot = i, j
}
