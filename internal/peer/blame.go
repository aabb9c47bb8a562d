package peer

import (
	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/wire"
)

// The shell's part of exact blame (the core's blame.go decides): answering a peer's hash
// request reads pieces from disk, so it runs in its own goroutine; the core bounds how many run.

// serveHashes reads the pieces r covers, hashes their blocks and sends the leaves (a hash
// reject if the disk fails).
func (s *Session) serveHashes(c *conn, key core.ConnKey, r wire.HashRange) {
	out, err := s.leafHashesOf(r)
	if err != nil {
		s.log.Warn("Cannot read a piece to answer a hash request", "err", err)
		c.send(r.Message(wire.HashReject))
	} else {
		c.send(r.HashesMessage(out))
	}
	s.event(func(cr *core.Core) { cr.HashesServed(key, err == nil) })
}

// leafHashesOf computes the leaves of r from our verified pieces of the file whose root r
// names (zero past the file's end).
func (s *Session) leafHashesOf(r wire.HashRange) ([]byte, error) {
	out := make([]byte, 0, int(r.Length)*32)
	var leaves []byte
	cached := -1
	for j := int(r.Index); j < int(r.Index)+int(r.Length); j++ {
		p, k, ok := s.meta.LeafPiece(r.PiecesRoot, j)
		if !ok {
			out = append(out, make([]byte, 32)...)
			continue
		}
		if p != cached {
			data := make([]byte, s.meta.PieceLen(p))
			if err := s.writes.readAt(data, s.meta.PieceOffset(p)); err != nil {
				return nil, err
			}
			leaves, cached = s.meta.LeafHashes(p, data), p
		}
		out = append(out, leaves[k*32:(k+1)*32]...)
	}
	return out, nil
}
