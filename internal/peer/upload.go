package peer

import (
	"slices"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// pieceMessageOverhead is the bytes of a Piece message besides its block: length prefix, id,
// index and begin.
const pieceMessageOverhead = 4 + 1 + 8

// appendBlocks serves the requests reqs of c: unless c was choked since it asked, it waits for
// the upload limiter and reads each block from disk (pread) straight into buf, the writer's
// reused buffer, after its Piece message header. It returns buf and the payload bytes appended
// (0 when skipped).
func (s *Session) appendBlocks(c *conn, buf []byte, reqs []Block) ([]byte, int, error) {
	if len(reqs) == 0 {
		return buf, 0, nil
	}
	s.mu.Lock()
	serve := !c.amChoking
	s.mu.Unlock()
	if !serve {
		return buf, 0, nil
	}
	total := 0
	for _, b := range reqs {
		total += b.Length
	}
	if err := s.upLimit.WaitN(c.ctx, total); err != nil {
		return buf, 0, err
	}
	buf = slices.Grow(buf, total+len(reqs)*pieceMessageOverhead)
	for _, b := range reqs {
		start := len(buf)
		buf = wire.AppendPieceHeader(buf, uint32(b.Piece), uint32(b.Begin), b.Length)
		headerEnd := len(buf)
		buf = slices.Grow(buf, b.Length)[:headerEnd+b.Length]
		if err := s.store.ReadAt(buf[headerEnd:], s.meta.PieceOffset(b.Piece)+int64(b.Begin)); err != nil {
			s.fail(err)
			return buf[:start], 0, err
		}
	}
	return buf, total, nil
}

// uploadBatch is how many blocks the writer serves per write: maxUploadBatch, or fewer when
// the upload cap's bucket is small, so that a capped link sends smoothly.
func (s *Session) uploadBatch() int {
	if s.upLimit == nil {
		return maxUploadBatch
	}
	return min(max(s.upLimit.lim.Burst()/blockLength, 1), maxUploadBatch)
}

// uploaded counts n payload bytes sent to c.
func (s *Session) uploaded(c *conn, n int) {
	now := time.Now()
	s.bytesUp.Add(int64(n))
	s.mu.Lock()
	c.up.Add(now, int64(n))
	s.upMeter.Add(now, int64(n))
	s.mu.Unlock()
}

// chokeRound runs one round of the choker (every ChokeInterval): the peers it picks are
// unchoked, every other one is choked.
func (s *Session) chokeRound(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cands := make([]Candidate, 0, len(s.conns))
	for _, c := range s.conns {
		cands = append(cands, Candidate{
			Key:          c.key,
			Interested:   c.peerInterested,
			DownloadRate: c.down.Rate(now),
			UploadRate:   c.up.Rate(now),
			Contributed:  c.contributed,
			Rarity:       RarityScore(c.has, s.have, s.picker.Availability),
			ConnectedAt:  c.connectedAt,
		})
	}
	unchoke := s.choker.Round(now, cands, s.complete)
	if s.cfg.NoUpload {
		clear(unchoke) // a free-rider serves nobody
	}
	for _, c := range s.conns {
		if unchoke[c.key] {
			s.unchokeLocked(c)
		} else {
			s.chokeLocked(c)
		}
	}
}

// unchokeIfSlotFreeLocked unchokes a newly interested peer at once when fewer peers than the
// choker's slots are unchoked, rather than have it wait for the next round.
func (s *Session) unchokeIfSlotFreeLocked(c *conn) {
	if !c.amChoking || s.cfg.NoUpload {
		return
	}
	unchoked := 0
	for _, other := range s.conns {
		if !other.amChoking {
			unchoked++
		}
	}
	if unchoked < s.cfg.Choker.RegularSlots+s.cfg.Choker.OptimisticSlots {
		s.unchokeLocked(c)
	}
}

// freeSlotLocked chokes c, which lost interest, and hands its upload slot to an interested peer
// now rather than at the next round: a slot held by a peer that wants nothing more would
// otherwise idle for up to a choke interval.
func (s *Session) freeSlotLocked(c *conn) {
	if c.amChoking {
		return
	}
	s.chokeLocked(c)
	for _, other := range s.conns {
		if other.peerInterested && other.amChoking {
			s.unchokeIfSlotFreeLocked(other)
			return
		}
	}
}

func (s *Session) unchokeLocked(c *conn) {
	if c.amChoking {
		c.amChoking = false
		c.send(wire.Message{ID: wire.Unchoke})
		s.offersCountedLocked(c, 1)
		s.superSeedLocked(c)
	}
}

// chokeLocked chokes c and drops its queued requests (a fast peer gets a Reject for each, as
// BEP 6 asks; a BEP 3 peer knows a choke cancels them).
func (s *Session) chokeLocked(c *conn) {
	if c.amChoking {
		return
	}
	c.amChoking = true
	s.offersCountedLocked(c, -1)
	msgs := []wire.Message{{ID: wire.Choke}}
	for _, b := range c.dropUploads() {
		if c.fast {
			msgs = append(msgs, rejectMessage(b))
		}
	}
	c.send(msgs...)
}
