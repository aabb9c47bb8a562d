package peer

import (
	"slices"
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/wire"
)

// pieceMessageOverhead is the bytes of a Piece message besides its block: length prefix, id,
// index and begin.
const pieceMessageOverhead = 4 + 1 + 8

// nextUploads takes up to maxBlocks of the requests c's peer queued at us (none while we choke
// it).
func (s *Session) nextUploads(c *conn, dst []core.Block, maxBlocks int) []core.Block {
	s.mu.Lock()
	defer s.mu.Unlock()
	dst = s.core.NextUploads(c.key, dst, maxBlocks)
	s.applyLocked()
	return dst
}

// appendBlocks serves the requests reqs of c: it waits for the upload limiter and reads each
// block from disk (pread) straight into buf, the writer's reused buffer, after its Piece
// message header. It returns buf and the payload bytes appended.
func (s *Session) appendBlocks(c *conn, buf []byte, reqs []core.Block) ([]byte, int, error) {
	if len(reqs) == 0 {
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
	s.mu.Lock()
	defer s.mu.Unlock()
	s.core.Uploaded(time.Now(), c.key, n)
	s.applyLocked()
}

// blockLength is the size of one request (16 KiB).
const blockLength = wire.BlockSize
