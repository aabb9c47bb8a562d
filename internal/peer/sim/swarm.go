package sim

import (
	"errors"
	"net/netip"
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
)

// The swarm's membership, played as the session's dialer, listener and tracker client do
// (internal/peer dialer.go, admission.go, announce.go): a peer joins (its core starts, a
// choking round runs, the tracker is asked), hands the tracker's sample to its core's
// directory and dials what the core says is due (at once, then every second), admits incoming
// connections through its core's slots, and leaves (every connection closes).

// dialScanEvery is how often a peer asks its core which addresses are due (the session's).
const dialScanEvery = time.Second

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
		c.FileComplete(s.wall(s.now)) // the shell finishes a complete file at start
	}
	c.ChokeRound(s.wall(s.now)) // the shell runs one at start
	s.schedule(s.now+time.Second, &event{kind: evTick, node: n})
	s.schedule(s.now+s.sc.ChokeInterval, &event{kind: evChoke, node: n})
	if s.sc.DialSeeders && n.spec.Role == Leecher {
		c.AddPeers(s.seederAddrs(n))
	}
	s.announce(n)
	s.schedule(s.now+s.sc.AnnounceInterval, &event{kind: evAnnounce, node: n})
	s.schedule(s.now+dialScanEvery, &event{kind: evDialScan, node: n})
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

// seederAddrs are the listen addresses of the seeders other than n (Scenario.DialSeeders).
func (s *Sim) seederAddrs(n *node) []netip.AddrPort {
	var addrs []netip.AddrPort
	for _, m := range s.nodes {
		if m != n && m.spec.Role == Seeder {
			addrs = append(addrs, m.info.Addr)
		}
	}
	return addrs
}

// announce asks the tracker: its answer is a random sample of NumWant of the peers present,
// which n's core learns; then n dials what is due.
func (s *Sim) announce(n *node) {
	var others []*node
	for _, m := range s.nodes {
		if m != n && m.present {
			others = append(others, m)
		}
	}
	s.rng.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	addrs := make([]netip.AddrPort, 0, s.sc.NumWant)
	for _, m := range others[:min(s.sc.NumWant, len(others))] {
		addrs = append(addrs, m.info.Addr)
	}
	n.core.AddPeers(addrs)
	s.dialDue(n)
}

// dialDue dials the addresses n's core says are due, each in a slot it reserved; the
// handshakes end a round trip later.
func (s *Sim) dialDue(n *node) {
	for _, addr := range n.core.DialDue(s.wall(s.now), core.MaxParallelDials) {
		s.nextID++
		l := &link{id: s.nextID, a: n, b: s.byAddr[addr]}
		s.schedule(s.now+2*s.sc.Latency, &event{kind: evConnect, node: n, conn: l})
	}
}

// connect runs a dial's handshakes: the acceptor admits the connection through its slots and
// registers it, then the dialler does. Either may refuse it.
func (s *Sim) connect(l *link) {
	a, b, now := l.a, l.b, s.wall(s.now)
	if b == nil || !b.present {
		s.dialFailed(a, l, core.DialFailed)
		return
	}
	from := netip.AddrPortFrom(a.info.Addr.Addr(), uint16(32768+l.id%28000)) // an ephemeral port
	h, _, r := b.core.Accept(from, l)
	if r == core.NotRefused {
		r = b.core.AdmitIncoming(now, h, from, a.info.ID)
	}
	var kb core.ConnKey
	var err error
	if r == core.NotRefused {
		info := a.info
		info.Addr = from
		kb, err = b.core.Connect(now, info)
	}
	if r != core.NotRefused || err != nil {
		s.applyEffects(b)
		s.check(b)
		s.dialFailed(a, l, core.DialFailed)
		return
	}
	ka, err := a.core.Connect(now, peerInfo(b, true))
	if err != nil {
		b.core.Disconnected(now, kb)
		s.applyEffects(b)
		s.check(b)
		s.dialEnded(a, l, dialOutcome(err)) // Connect gave the slot back
		return
	}
	l.keyA, l.keyB = ka, kb
	a.links, b.links = append(a.links, l), append(b.links, l)
	a.peakConns, b.peakConns = max(a.peakConns, len(a.links)), max(b.peakConns, len(b.links))
	s.applyEffects(b)
	s.check(b)
}

// dialFailed gives back the slot of a dial that did not connect and tells the directory.
func (s *Sim) dialFailed(a *node, l *link, outcome core.DialOutcome) {
	a.core.ReleaseSlot(l.b.info.Addr, true)
	s.dialEnded(a, l, outcome)
}

// dialEnded tells a's directory how the dial of l ended; a duplicate's redial is looked for
// when due, sooner than the next scan (the session's wakeUp).
func (s *Sim) dialEnded(a *node, l *link, outcome core.DialOutcome) {
	if wait := a.core.DialEnded(s.wall(s.now), l.b.info.Addr, outcome); wait > 0 {
		s.schedule(s.now+wait, &event{kind: evDialWake, node: a})
	}
}

// dialOutcome classifies a refused registration as the session's dialer does.
func dialOutcome(err error) core.DialOutcome {
	switch {
	case errors.Is(err, core.ErrBanned):
		return core.DialBanned
	case errors.Is(err, core.ErrDuplicate):
		return core.DialDuplicate
	}
	return core.DialFailed
}

// peerInfo is how n looks to the peer that dialled it.
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
		held := 0
		if n.core != nil {
			held = n.core.HaveCount()
		}
		n.pieces = append(n.pieces, held)
		if n.present && n.spec.Role == Leecher {
			have += held
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
	if s.sc.onSample != nil {
		s.sc.onSample(s)
	}
}
