package sim

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/wire"
)

// node is one peer of the swarm: its core and the shell state the simulator keeps for it.
type node struct {
	idx     int
	spec    PeerSpec
	core    *core.Core
	info    core.PeerInfo // how others see it (Outgoing is set per link)
	present bool          // joined and not left
	links   []*link       // its open connections, in order of dialling
	up      uplink

	joined, left, completed time.Duration
	done                    bool
	uploaded, downloaded    int64 // payload bytes sent and received
	fromSeeders             int64 // payload bytes received from seeders
	wrongPieces             int   // pieces that verified but differ from the content (must be 0)
	banReason               string
	cancels                 int64
	downFree                time.Duration // when its download rate can take the next block in
	peakConns               int
	halfAt                  time.Duration
	pieces                  []int // pieces held at each sample
}

// setup creates the nodes and schedules their joins.
func (s *Sim) setup() {
	s.res.Peers = make([]PeerResult, len(s.sc.Peers))
	for i, spec := range s.sc.Peers {
		n := &node{idx: i, spec: spec}
		n.info = core.PeerInfo{ID: peerID(i), Addr: peerAddr(i), Fast: true, Hashes: true}
		s.byAddr[n.info.Addr] = n
		n.up.rate = float64(spec.Upload)
		n.up.batch = uploadBatch(spec.Upload)
		s.nodes = append(s.nodes, n)
		jitter := time.Duration(0)
		if s.sc.StartJitter > 0 {
			jitter = time.Duration(s.rng.Int64N(int64(s.sc.StartJitter)))
		}
		s.schedule(spec.JoinAt+jitter, &event{kind: evJoin, node: n})
		if spec.LeaveAt > spec.JoinAt {
			s.schedule(spec.LeaveAt, &event{kind: evLeave, node: n})
		}
	}
	s.schedule(time.Second, &event{kind: evSample})
}

// peerID is peer i's 20-byte id.
func peerID(i int) [20]byte {
	var id [20]byte
	copy(id[:], fmt.Sprintf("-SM0001-%012d", i))
	return id
}

// peerAddr is peer i's address: one IP per peer, so that a ban by IP hits that peer alone.
func peerAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 6881)
}

// coreConfig is peer i's core configuration.
func (s *Sim) coreConfig(n *node) core.Config {
	cfg := core.Config{
		Torrent:          s.content.meta,
		PieceStrategy:    s.sc.PieceStrategy,
		NoUpload:         n.spec.FreeRider,
		SeedsOnly:        n.spec.SeedsOnly,
		SuperSeed:        n.spec.SuperSeed,
		RandSeed:         s.rng.Uint64(),
		MaxBufferedBytes: n.spec.MaxBufferedBytes,
		MaxPeers:         s.sc.MaxPeers,
	}
	if n.spec.MaxPeers > 0 {
		cfg.MaxPeers = n.spec.MaxPeers
	}
	if n.spec.Role == Seeder {
		cfg.Have = make([]bool, s.content.meta.NumPieces())
		for i := range cfg.Have {
			cfg.Have[i] = true
		}
	}
	if s.sc.Tweak != nil {
		s.sc.Tweak(n.idx, &cfg)
	}
	return cfg
}

// apply runs one event: a core method, then the core's effects.
func (s *Sim) apply(e *event) {
	n := e.node
	if n == nil { // the sampler
		s.sample()
		s.schedule(s.now+time.Second, &event{kind: evSample})
		return
	}
	if e.kind == evJoin {
		s.join(n)
		return
	}
	if !n.present {
		return // it left: its timers and deliveries die with it
	}
	s.dispatch(e, n)
	if n.present {
		s.applyEffects(n)
		s.check(n)
	}
}

// dispatch hands e to n's core (or to the swarm's bookkeeping).
func (s *Sim) dispatch(e *event, n *node) {
	now := s.wall(s.now)
	switch e.kind {
	case evLeave:
		s.leave(n)
	case evAnnounce:
		s.announce(n)
		s.schedule(s.now+s.sc.AnnounceInterval, &event{kind: evAnnounce, node: n})
	case evConnect:
		s.connect(e.conn)
	case evDialScan:
		s.dialDue(n)
		s.schedule(s.now+dialScanEvery, &event{kind: evDialScan, node: n})
	case evDialWake:
		s.dialDue(n)
	case evDialEnded:
		s.dialEnded(n, e.conn, core.DialClosed)
	case evDeliver:
		s.deliver(e.conn, n, e.msgs)
	case evClosed:
		n.core.Disconnected(now, e.conn.keyAt(n))
		if n == e.conn.a {
			s.dialEnded(n, e.conn, core.DialClosed) // the dialler's connection ended
		}
	case evUploadDone:
		s.uploadDone(n, e.conn, e.n)
	case evVerified:
		s.verified(n, e.piece, e.data)
	case evHashesServed:
		n.core.HashesServed(core.ConnKey(e.n), true)
	case evFileComplete:
		n.core.FileComplete(now)
	case evTick:
		n.core.Tick(now)
		s.schedule(s.now+time.Second, &event{kind: evTick, node: n})
	case evChoke:
		n.core.ChokeRound(now)
		s.schedule(s.now+s.sc.ChokeInterval, &event{kind: evChoke, node: n})
	}
}

// check verifies n's core's invariants when the scenario asks.
func (s *Sim) check(n *node) {
	if !s.sc.CheckInvariants || s.err != nil {
		return
	}
	if err := n.core.CheckInvariants(); err != nil {
		s.err = fmt.Errorf("sim: peer %d at %v: %w", n.idx, s.now, err)
	}
}

// applyEffects carries out n's core's pending effects, as the session's applyLocked does.
func (s *Sim) applyEffects(n *node) {
	effects := n.core.Effects()
	for i := 0; i < len(effects); i++ {
		e := effects[i]
		switch e.Kind {
		case core.Send:
			msgs := []wire.Message{e.Msg}
			for i+1 < len(effects) && effects[i+1].Kind == core.Send && effects[i+1].Conn == e.Conn {
				i++
				msgs = append(msgs, effects[i].Msg)
			}
			s.sendControl(n, e.Conn, msgs)
		case core.ServeReady:
			s.pump(n)
		case core.Disconnect:
			if l := n.linkByKey(e.Conn); l != nil {
				s.close(l, n)
			}
		case core.Verify:
			if e.NeedLeaves {
				s.res.SuspectPieces++
			}
			s.schedule(s.now+s.sc.VerifyDelay, &event{kind: evVerified, node: n, piece: e.Piece, data: e.Data})
		case core.ServeHashes:
			s.serveHashes(n, e.Conn, e.Range)
		case core.Banned:
			s.banned(n, e.Peer)
		case core.Complete:
			s.completed(n)
		case core.Log:
			s.logged(n, e)
		}
	}
}

// verified gives n's core the outcome of a piece: hashed when the scenario verifies, else good.
func (s *Sim) verified(n *node, piece int, data []byte) {
	ok, leaves := true, []byte(nil)
	if s.sc.Verify {
		meta := s.content.meta
		ok = meta.VerifyPiece(piece, data)
		leaves = meta.LeafHashes(piece, data) // always: a suspect piece needs them even when it passes
		if ok && !s.content.matches(piece, data) {
			n.wrongPieces++
		}
	}
	if !ok {
		s.res.HashFailures++
		s.res.Peers[n.idx].HashFailures++
	}
	n.core.PieceChecked(s.wall(s.now), piece, data, ok, leaves, nil)
	if ok {
		s.pieceArrived(piece)
		if n.halfAt == 0 && 2*n.core.HaveCount() >= s.content.meta.NumPieces() {
			n.halfAt = s.now
		}
	}
}

// completed records a finished download; the file is "finished" as the next event, as the
// shell's onComplete does after its checks.
func (s *Sim) completed(n *node) {
	if !n.done {
		n.done, n.completed = true, s.now
		s.unfinished--
	}
	s.schedule(s.now, &event{kind: evFileComplete, node: n})
}

// banned records that n banned a peer (the reason comes from the log record before it).
func (s *Sim) banned(n *node, id core.Identity) {
	who := -1
	for _, m := range s.nodes {
		if m.info.Addr.Addr() == id.Addr.Addr() { // one IP per peer; an accepted one's port is ephemeral
			who = m.idx
		}
	}
	s.res.Bans = append(s.res.Bans, Ban{At: s.now, By: n.idx, Peer: who, Reason: n.banReason})
	n.banReason = ""
}

// logged keeps what the simulator needs from a log record: a ban's reason and proof.
func (s *Sim) logged(n *node, e core.Effect) {
	if e.Text != "Peer banned" {
		return
	}
	var reason, proof string
	for i := 0; i+1 < len(e.Attrs); i += 2 {
		switch e.Attrs[i] {
		case "reason":
			reason, _ = e.Attrs[i+1].(string)
		case "proof":
			proof, _ = e.Attrs[i+1].(string)
		}
	}
	n.banReason = reason + ": " + proof
}

// linkByKey is n's open connection with core key k.
func (n *node) linkByKey(k core.ConnKey) *link {
	for _, l := range n.links {
		if l.keyAt(n) == k {
			return l
		}
	}
	return nil
}
