package peer

import (
	"context"
	"fmt"
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/wire"
)

// The shell's half of every decision: an event goes to the core under the session's mutex, and
// the effects it returns are applied before the mutex is released, so that the messages to one
// peer leave in the order the core decided them. Only what blocks leaves the lock: a piece's
// verification and write (the verifier's workers) and a hash answer's disk reads (their own
// goroutine).

// event runs f on the core under the session's mutex and applies its effects.
func (s *Session) event(f func(*core.Core)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.core)
	s.applyLocked()
}

// handleMessage hands one message of c's peer to the core. An error closes the connection.
func (s *Session) handleMessage(c *conn, m wire.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.core.Receive(time.Now(), c.key, m)
	s.applyLocked()
	return err
}

// applyLocked carries out the core's pending effects.
func (s *Session) applyLocked() {
	if s.cfg.checkInvariants {
		if err := s.core.CheckInvariants(); err != nil {
			panic(fmt.Sprintf("peer core: %v", err))
		}
	}
	effects := s.core.Effects()
	for i := 0; i < len(effects); i++ {
		e := effects[i]
		c := s.conns[e.Conn]
		switch e.Kind {
		case core.Send:
			s.batch = append(s.batch[:0], e.Msg)
			for i+1 < len(effects) && effects[i+1].Kind == core.Send && effects[i+1].Conn == e.Conn {
				i++
				s.batch = append(s.batch, effects[i].Msg)
			}
			if c != nil {
				c.send(s.batch...)
			}
			clear(s.batch)
		case core.ServeReady:
			if s.upSched != nil {
				s.upSched.signal()
			} else if c != nil {
				c.signal()
			}
		case core.Disconnect:
			if c != nil {
				c.close(e.Err)
			}
		case core.Verify:
			s.verify.submit(s, verifyJob{piece: e.Piece, data: e.Data, needLeaves: e.NeedLeaves})
		case core.ServeHashes:
			if c != nil {
				key, r := e.Conn, e.Range
				s.goRun(func() { s.serveHashes(c, key, r) })
			} else {
				s.core.HashesServed(e.Conn, false)
			}
		case core.Banned: // logged by the core; the directory stops dialling it
		case core.Complete:
			s.goRun(func() { s.onComplete(true) })
		case core.Log:
			s.log.Log(context.Background(), e.Level, e.Text, e.Attrs...)
		}
	}
}
