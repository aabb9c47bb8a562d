package peer

import (
	"github.com/minibit-io/minibit/internal/peer/core"
)

// uploadScheduler sends a capped session's uploads (core/schedule.go has the rules): one
// goroutine asks the core which peer's blocks go next, waits for the upload cap's tokens, and
// hands the blocks to that connection's writer, which sends them with its queued control
// messages. Control messages therefore never wait for the cap, and the peers we unchoke are
// served one piece at a time at the full rate instead of contending for the bucket.
// Owner: run is its only goroutine; wake may be signalled from anywhere.
type uploadScheduler struct {
	s     *Session
	limit *rateLimiter
	wake  chan struct{} // capacity 1: a request was queued or a writer took its grant
	batch int           // blocks per grant: a tenth of a second of the cap, at most maxUploadBatch
	picks []core.Block  // scratch
}

// newUploadScheduler returns the scheduler of a session capped by limit, or nil without a cap.
func newUploadScheduler(s *Session, limit *rateLimiter) *uploadScheduler {
	if limit == nil {
		return nil
	}
	return &uploadScheduler{
		s: s, limit: limit, wake: make(chan struct{}, 1),
		batch: min(max(limit.lim.Burst()/blockLength, 1), maxUploadBatch),
	}
}

// signal tells the scheduler that there may be something to send.
func (u *uploadScheduler) signal() {
	if u == nil {
		return
	}
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// run grants uploads until the session ends.
func (u *uploadScheduler) run() {
	for {
		c, blocks := u.pick()
		if c == nil {
			select {
			case <-u.s.ctx.Done():
				return
			case <-u.wake:
			}
			continue
		}
		if err := u.limit.WaitN(u.s.ctx, grantBytes(blocks)); err != nil {
			return
		}
		c.grant(blocks)
	}
}

// pick asks the core for the next blocks to send and whose writer takes them.
func (u *uploadScheduler) pick() (*conn, []core.Block) {
	s := u.s
	s.mu.Lock()
	defer s.mu.Unlock()
	key, blocks := s.core.PickUpload(s.writerIdle, u.batch, u.picks[:0])
	u.picks = blocks[:0]
	c := s.conns[key]
	if c == nil {
		return nil, nil
	}
	return c, blocks
}

// writerIdle reports whether key's writer has taken every block granted to it. Called with
// s.mu held.
func (s *Session) writerIdle(key core.ConnKey) bool {
	c := s.conns[key]
	return c != nil && c.grantTaken()
}

// grantBytes is what blocks cost at the cap: their payload and their messages' headers.
func grantBytes(blocks []core.Block) int {
	n := 0
	for _, b := range blocks {
		n += b.Length + pieceMessageOverhead
	}
	return n
}
