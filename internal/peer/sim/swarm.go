package sim

import (
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
)

// The swarm's membership: peers join (a core starts, a choking round runs, the tracker is
// asked), dial the peers the tracker returns, accept incoming connections up to MaxPeers, and
// leave (every connection closes).

// pair names a connection between two peers whichever dialled.
type pair struct{ lo, hi int }

func pairOf(a, b *node) pair {
	if a.idx < b.idx {
		return pair{a.idx, b.idx}
	}
	return pair{b.idx, a.idx}
}

// join starts n's core and its timers, and announces.
func (s *Sim) join(n *node) {
	c, err := core.New(s.coreConfig(n), nil, s.wall(s.now))
	if err != nil {
		s.err = err
		return
	}
	n.core, n.present, n.joined = c, true, s.now
	if n.spec.Role == Leecher {
		s.unfinished++
	}
	s.joinsDue--
	if n.spec.Role == Seeder {
		c.FileComplete() // the shell finishes a complete file at start
	}
	c.ChokeRound(s.wall(s.now)) // the shell runs one at start
	s.schedule(s.now+time.Second, &event{kind: evTick, node: n})
	s.schedule(s.now+s.sc.ChokeInterval, &event{kind: evChoke, node: n})
	if s.sc.DialSeeders && n.spec.Role == Leecher {
		s.dialSeeders(n)
	}
	s.announce(n)
	s.schedule(s.now+s.sc.AnnounceInterval, &event{kind: evAnnounce, node: n})
	s.applyEffects(n)
	s.check(n)
}

// leave closes n's connections and stops its core.
func (s *Sim) leave(n *node) {
	for len(n.links) > 0 {
		s.close(n.links[0], n)
	}
	if n.spec.Role == Leecher && !n.done {
		s.unfinished--
	}
	n.present, n.left = false, s.now
}

// announce asks the tracker for NumWant peers, a random sample of those present, and dials
// the ones n is not connected to while it has room (the session's dialer).
func (s *Sim) announce(n *node) {
	var others []*node
	for _, m := range s.nodes {
		if m != n && m.present {
			others = append(others, m)
		}
	}
	s.rng.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	s.dialAll(n, others[:min(s.sc.NumWant, len(others))])
}

// dialAll dials the peers of ms that n is not connected to while n has room.
func (s *Sim) dialAll(n *node, ms []*node) {
	for _, m := range ms {
		if len(n.links)+n.pending >= s.maxPeers(n) {
			return
		}
		if _, ok := s.pairs[pairOf(n, m)]; !ok {
			s.dial(n, m)
		}
	}
}

// dialSeeders dials every seeder present (Scenario.DialSeeders).
func (s *Sim) dialSeeders(n *node) {
	var seeders []*node
	for _, m := range s.nodes {
		if m != n && m.present && m.spec.Role == Seeder {
			seeders = append(seeders, m)
		}
	}
	s.dialAll(n, seeders)
}

// maxPeers is n's bound on connections.
func (s *Sim) maxPeers(n *node) int {
	if n.spec.MaxPeers > 0 {
		return n.spec.MaxPeers
	}
	return s.sc.MaxPeers
}

// dial starts a connection from a to b: both ends register it a round trip later.
func (s *Sim) dial(a, b *node) {
	s.nextID++
	l := &link{id: s.nextID, a: a, b: b}
	s.pairs[pairOf(a, b)] = l
	a.pending++
	s.schedule(s.now+2*s.sc.Latency, &event{kind: evEstablished, node: a, conn: l})
}

// established registers a dialled connection at both ends, unless either end left, the
// acceptor is full, or a core refuses it (a ban, a duplicate).
func (s *Sim) established(l *link) {
	a, b := l.a, l.b
	a.pending--
	if !b.present || len(b.links)+b.pending >= s.maxPeers(b) {
		delete(s.pairs, pairOf(a, b))
		return
	}
	now := s.wall(s.now)
	ka, err := a.core.Connect(now, peerInfo(b, true))
	if err != nil {
		delete(s.pairs, pairOf(a, b))
		return
	}
	kb, err := b.core.Connect(now, peerInfo(a, false))
	if err != nil {
		delete(s.pairs, pairOf(a, b))
		a.core.Disconnected(now, ka)
		return
	}
	l.keyA, l.keyB = ka, kb
	a.links = append(a.links, l)
	b.links = append(b.links, l)
	a.peakConns = max(a.peakConns, len(a.links))
	b.peakConns = max(b.peakConns, len(b.links))
	s.applyEffects(b)
	s.check(b)
}

// peerInfo is how a connection's far end n looks from the other end.
func peerInfo(n *node, outgoing bool) core.PeerInfo {
	info := n.info
	info.Outgoing = outgoing
	return info
}

// done reports whether the run is over: nobody is due to join and every leecher present has
// finished.
func (s *Sim) done() bool { return s.joinsDue == 0 && s.unfinished == 0 }

// pieceArrived counts a piece verified by a leecher; the first time every piece exists
// outside the seeders, what the seeders uploaded so far is recorded.
func (s *Sim) pieceArrived(piece int) {
	if s.copies[piece] == 0 {
		s.missing--
		if s.missing == 0 {
			s.res.AllPiecesAt = s.now
			for _, n := range s.nodes {
				if n.spec.Role == Seeder {
					s.res.SeederUploadAtAllPieces += n.uploaded
				}
			}
		}
	}
	s.copies[piece]++
}

// sample records the swarm's progress: the share of the leechers' pieces verified.
func (s *Sim) sample() {
	have, want, finished := 0, 0, 0
	for _, n := range s.nodes {
		if n.present && n.spec.Role == Leecher {
			have += n.core.HaveCount()
			want += s.content.meta.NumPieces()
			if n.done {
				finished++
			}
		}
	}
	frac := 0.0
	if want > 0 {
		frac = float64(have) / float64(want)
	}
	s.res.Progress = append(s.res.Progress, Sample{At: s.now, Fraction: frac, Finished: finished})
}
