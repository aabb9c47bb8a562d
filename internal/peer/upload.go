package peer

import (
	"slices"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/wire"
)

// pieceMessageOverhead is the bytes of a Piece message besides its block: length prefix, id,
// index and begin.
const pieceMessageOverhead = 4 + 1 + 8

// blockLength is the size of one request (16 KiB).
const blockLength = wire.BlockSize

// maxUploadBatch is how many requested blocks the writer serves with one write (128 KiB of
// payload): on a fast link one syscall per block costs more than the copy it carries.
const maxUploadBatch = 8

// takeUploads appends to dst the blocks c's writer is to send now. With an upload cap they are
// the ones the session's scheduler granted (paid for at the limiter already); without one, up to
// maxUploadBatch of the peer's queued requests (none while we choke it).
func (s *Session) takeUploads(c *conn, dst []core.Block) []core.Block {
	if s.upSched != nil {
		return c.takeGranted(dst)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dst = s.core.NextUploads(c.key, dst, maxUploadBatch)
	s.applyLocked()
	return dst
}

// appendBlocks reads each block of reqs from disk (pread) straight into buf, the writer's
// reused buffer, after its Piece message header. It returns buf and the payload bytes appended.
func (s *Session) appendBlocks(buf []byte, reqs []core.Block) ([]byte, int, error) {
	total := 0
	for _, b := range reqs {
		total += b.Length
	}
	buf = growWriteBuffer(buf, total+len(reqs)*pieceMessageOverhead)
	for _, b := range reqs {
		start := len(buf)
		buf = wire.AppendPieceHeader(buf, uint32(b.Piece), uint32(b.Begin), b.Length)
		headerEnd := len(buf)
		buf = buf[:headerEnd+b.Length]
		if err := s.writes.readAt(buf[headerEnd:], s.meta.PieceOffset(b.Piece)+int64(b.Begin)); err != nil {
			s.fail(err)
			return buf[:start], 0, err
		}
	}
	return buf, total, nil
}

// uploaded counts n payload bytes sent to c.
func (s *Session) uploaded(c *conn, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.core.Uploaded(time.Now(), c.key, n)
	s.applyLocked()
}

// writeBuffers lends the writers their buffers of blocks: a connection holds one only while it
// has blocks to send, not for its life (at 1000 peers in one process the retained buffers were
// 181 MiB of the heap, docs/benchmarks.md).
var writeBuffers sync.Pool

// smallWriteBuffer is the largest buffer a writer keeps between its wake-ups: control messages.
const smallWriteBuffer = 4 << 10

// growWriteBuffer returns buf with room for n more bytes, from the pool when it lacks room.
func growWriteBuffer(buf []byte, n int) []byte {
	if cap(buf)-len(buf) >= n {
		return buf
	}
	if p, ok := writeBuffers.Get().(*[]byte); ok {
		if cap(*p) >= len(buf)+n {
			return append((*p)[:0], buf...)
		}
		writeBuffers.Put(p)
	}
	return slices.Grow(buf, n)
}

// recycleWriteBuffer gives a large buffer back to the pool once the writer sent everything; it
// returns the buffer the writer keeps (nil for a given-back one).
func recycleWriteBuffer(buf []byte) []byte {
	if cap(buf) <= smallWriteBuffer {
		return buf
	}
	b := buf[:0]
	writeBuffers.Put(&b)
	return nil
}
