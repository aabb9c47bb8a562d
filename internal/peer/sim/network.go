package sim

import (
	"errors"
	"math"
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/wire"
)

// The in-memory network: a link is one connection between two peers, in order in each
// direction like TCP, each message arriving the link's latency after it left. A peer's blocks
// leave through its uplink, which serves its connections round robin, one batch of requested
// blocks at a time, each batch taking its bytes over the peer's upload rate: work-conserving,
// as the session's writers sharing one token bucket. A receiver with a download rate takes
// blocks in at that rate. Control messages are not rate-limited (they are not in the session).

// link is one connection: a dialled b.
type link struct {
	id         uint64
	a, b       *node
	keyA, keyB core.ConnKey
	closed     bool
	lastAB     time.Duration // the arrival of the last message a sent b: later ones arrive after it
	lastBA     time.Duration
}

// keyAt is the core key of the link at n's end.
func (l *link) keyAt(n *node) core.ConnKey {
	if n == l.a {
		return l.keyA
	}
	return l.keyB
}

// other is the peer at the far end from n.
func (l *link) other(n *node) *node {
	if n == l.a {
		return l.b
	}
	return l.a
}

// arrival is when a message n sends at virtual time sent arrives at the far end: after the
// latency and after everything n sent before on this link.
func (s *Sim) arrival(l *link, n *node, sent time.Duration) time.Duration {
	last := &l.lastAB
	if n == l.b {
		last = &l.lastBA
	}
	at := max(sent+s.sc.Latency, *last)
	*last = at
	return at
}

// sendControl sends n's messages on its connection key.
func (s *Sim) sendControl(n *node, key core.ConnKey, msgs []wire.Message) {
	l := n.linkByKey(key)
	if l == nil {
		return
	}
	for _, m := range msgs {
		if m.ID == wire.Cancel && !m.KeepAlive {
			n.cancels++
		}
	}
	s.schedule(s.arrival(l, n, s.now), &event{kind: evDeliver, node: l.other(n), conn: l, msgs: msgs})
}

// deliver hands messages that arrived on l to n's core. An error closes the connection.
func (s *Sim) deliver(l *link, n *node, msgs []wire.Message) {
	if l.closed {
		return
	}
	now, key := s.wall(s.now), l.keyAt(n)
	for _, m := range msgs {
		if m.ID == wire.Piece && !m.KeepAlive {
			n.downloaded += int64(len(m.Payload))
			if l.other(n).spec.Role == Seeder {
				n.fromSeeders += int64(len(m.Payload))
			}
		}
		if err := n.core.Receive(now, key, m); err != nil {
			if !errors.Is(err, core.ErrBothSeeds) && !errors.Is(err, core.ErrBanned) {
				s.res.ProtocolErrors = append(s.res.ProtocolErrors, err.Error())
			}
			s.close(l, n)
			return
		}
	}
}

// close closes l from n's end: n's core has forgotten it (or n left); the far end notices
// after the latency.
func (s *Sim) close(l *link, n *node) {
	if l.closed {
		return
	}
	l.closed = true
	l.a.links = removeLink(l.a.links, l)
	l.b.links = removeLink(l.b.links, l)
	far := l.other(n)
	s.schedule(s.now+s.sc.Latency, &event{kind: evClosed, node: far, conn: l})
	if n == l.a && n.present {
		s.schedule(s.now, &event{kind: evDialEnded, node: n, conn: l}) // the dialler's connection ended
	}
}

func removeLink(links []*link, l *link) []*link {
	for i, x := range links {
		if x == l {
			return append(links[:i], links[i+1:]...)
		}
	}
	return links
}

// uplink is a peer's upload: one batch of blocks at a time over its rate.
type uplink struct {
	rate       float64 // bytes/s; 0 is unlimited
	batch      int     // blocks per batch (the session's uploadBatch)
	busy       bool
	lastServed uint64 // the link id served last: the next batch goes to the one after
	blocks     []core.Block
}

// maxUploadBatch and minLimiterBurst are the session's (internal/peer conn.go, ratelimit.go):
// up to 8 blocks per write, fewer when the token bucket's burst (a tenth of a second of the
// rate, at least 32 KiB) is smaller.
const (
	maxUploadBatch  = 8
	minLimiterBurst = 32 << 10
	maxBlock        = wire.BlockSize
)

// uploadBatch is how many blocks a peer with upload rate sends per batch.
func uploadBatch(rate int64) int {
	if rate <= 0 {
		return maxUploadBatch
	}
	burst := max(int(rate/10), minLimiterBurst)
	return min(max(burst/maxBlock, 1), maxUploadBatch)
}

// pump starts n's next batch of blocks if its uplink is idle. A capped uplink sends what the
// core's upload scheduler picks (core.PickUpload), as the session's scheduler does; an uncapped
// one serves its connections in turn, the next after the last one served in dialling order,
// as the session's writers share an uncapped link.
func (s *Sim) pump(n *node) {
	if n.up.busy || len(n.links) == 0 {
		return
	}
	if n.up.rate > 0 {
		key, blocks := n.core.PickUpload(func(core.ConnKey) bool { return true }, n.up.batch, n.up.blocks[:0])
		n.up.blocks = blocks
		if l := n.linkByKey(key); l != nil && len(blocks) > 0 {
			s.sendBlocks(n, l, blocks)
		}
		return
	}
	start := 0
	for start < len(n.links) && n.links[start].id <= n.up.lastServed {
		start++
	}
	for i := range n.links {
		l := n.links[(start+i)%len(n.links)]
		n.up.blocks = n.core.NextUploads(l.keyAt(n), n.up.blocks[:0], n.up.batch)
		if len(n.up.blocks) > 0 {
			n.up.lastServed = l.id
			s.sendBlocks(n, l, n.up.blocks)
			return
		}
	}
}

// sendBlocks puts blocks on the wire to l's far end: each leaves when the uplink has sent the
// bytes before it and its own, and arrives after the latency (and, with a download rate, when
// the receiver could take it in).
func (s *Sim) sendBlocks(n *node, l *link, blocks []core.Block) {
	far := l.other(n)
	total := 0
	for _, b := range blocks {
		total += b.Length
		left := s.now + n.up.serialize(total)
		at := s.arrival(l, n, left)
		if far.spec.Download > 0 {
			at = max(at, far.downFree) + durationOf(b.Length, float64(far.spec.Download))
			far.downFree = at
			s.bumpArrival(l, n, at)
		}
		m := wire.Message{ID: wire.Piece, Index: uint32(b.Piece), Begin: uint32(b.Begin), Payload: s.payload(n, b)}
		s.schedule(at, &event{kind: evDeliver, node: far, conn: l, msgs: []wire.Message{m}})
	}
	n.up.busy = true
	s.schedule(s.now+n.up.serialize(total), &event{kind: evUploadDone, node: n, conn: l, n: total})
}

// bumpArrival records a later arrival of n's last message on l (a receiver's download rate
// held it back): what n sends next arrives after it.
func (s *Sim) bumpArrival(l *link, n *node, at time.Duration) {
	if n == l.a {
		l.lastAB = max(l.lastAB, at)
	} else {
		l.lastBA = max(l.lastBA, at)
	}
}

// serialize is how long the uplink takes to send n bytes.
func (u *uplink) serialize(n int) time.Duration { return durationOf(n, u.rate) }

// durationOf is the time n bytes take at rate bytes/s (0 for an unlimited rate).
func durationOf(n int, rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(float64(n) / rate * float64(time.Second)))
}

// uploadDone ends n's batch on l: the core counts the bytes, and the next batch starts.
func (s *Sim) uploadDone(n *node, l *link, total int) {
	n.up.busy = false
	n.uploaded += int64(total)
	n.core.Uploaded(s.wall(s.now), l.keyAt(n), total)
	s.pump(n)
}

// payload is the bytes of block b as n sends them: zeros when pieces are not verified, the
// content otherwise, with the first byte flipped in the pieces a corrupt peer spoils.
func (s *Sim) payload(n *node, b core.Block) []byte {
	if !s.sc.Verify {
		return s.zeros[:b.Length]
	}
	good := s.content.block(b.Piece, b.Begin, b.Length)
	if n.spec.honest() || b.Piece%n.spec.CorruptEvery != 0 {
		return good
	}
	bad := append([]byte(nil), good...)
	bad[0] ^= 0xff
	return bad
}

// serveHashes answers a hash request from the true content's leaf hashes (the shell reads
// them from disk), then tells n's core the answer went out.
func (s *Sim) serveHashes(n *node, key core.ConnKey, r wire.HashRange) {
	s.sendControl(n, key, []wire.Message{r.HashesMessage(s.content.leafRange(r))})
	s.schedule(s.now, &event{kind: evHashesServed, node: n, n: int(key)})
}
