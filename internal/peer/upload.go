package peer

import (
	"slices"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// appendBlock serves request b of c: unless c was choked since it asked, it waits for the
// upload limiter and reads the block from disk (pread) straight into buf, the writer's reused
// buffer, after a Piece message header. It returns buf and the payload size appended (0 when
// skipped).
func (s *Session) appendBlock(c *conn, buf []byte, b Block) ([]byte, int, error) {
	s.mu.Lock()
	serve := !c.amChoking
	s.mu.Unlock()
	if !serve {
		return buf, 0, nil
	}
	if err := s.upLimit.WaitN(c.ctx, b.Length); err != nil {
		return buf, 0, err
	}
	start := len(buf)
	buf = wire.AppendPieceHeader(buf, uint32(b.Piece), uint32(b.Begin), b.Length)
	headerEnd := len(buf)
	buf = slices.Grow(buf, b.Length)[:headerEnd+b.Length]
	if err := s.store.ReadAt(buf[headerEnd:], s.meta.PieceOffset(b.Piece)+int64(b.Begin)); err != nil {
		s.fail(err)
		return buf[:start], 0, err
	}
	return buf, b.Length, nil
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
			Rarity:       RarityScore(c.has, s.have, s.picker.Availability),
			ConnectedAt:  c.connectedAt,
		})
	}
	unchoke := s.choker.Round(now, cands, s.complete)
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
	if !c.amChoking {
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

func (s *Session) unchokeLocked(c *conn) {
	if c.amChoking {
		c.amChoking = false
		c.send(wire.Message{ID: wire.Unchoke})
	}
}

// chokeLocked chokes c and drops its queued requests (a fast peer gets a Reject for each, as
// BEP 6 asks; a BEP 3 peer knows a choke cancels them).
func (s *Session) chokeLocked(c *conn) {
	if c.amChoking {
		return
	}
	c.amChoking = true
	msgs := []wire.Message{{ID: wire.Choke}}
	for _, b := range c.dropUploads() {
		if c.fast {
			msgs = append(msgs, rejectMessage(b))
		}
	}
	c.send(msgs...)
}
