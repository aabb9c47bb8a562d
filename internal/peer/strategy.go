package peer

import "github.com/minibit-io/minibit/internal/wire"

// HaveBitfield returns a copy of the pieces this peer holds verified (for a swarm's piece
// availability, the design note's concept 8).
func (s *Session) HaveBitfield() wire.Bitfield {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.HaveBitfield()
}

// allVerified reports whether every piece is verified.
func (s *Session) allVerified() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.AllVerified()
}

// isDone reports whether Done is closed: the verified file is in place.
func (s *Session) isDone() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}
