package core

// minPieceBuffers is the fewest piece buffers allowed, whatever the piece size.
const minPieceBuffers = 8

// bufferPool lends piece-sized buffers, at most max at once: it bounds the started pieces and so
// the memory of a download, whatever the file's size. A started piece holds its buffer until it
// is verified (the verifier holds it meanwhile) or abandoned.
type bufferPool struct {
	size, max, lent int
	free            [][]byte
}

func newBufferPool(size, maxBuffers int) *bufferPool {
	return &bufferPool{size: size, max: maxBuffers}
}

// BufferCount is how many piece buffers fit in maxBytes, at least minPieceBuffers.
func BufferCount(maxBytes, pieceLength int64) int {
	return max(int(maxBytes/max(pieceLength, 1)), minPieceBuffers)
}

// get returns a buffer; the picker asks only while fewer than max are lent.
func (p *bufferPool) get() []byte {
	p.lent++
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	return make([]byte, p.size)
}

func (p *bufferPool) put(b []byte) {
	p.lent--
	p.free = append(p.free, b[:cap(b)])
}

func (p *bufferPool) full() bool { return p.lent >= p.max }

// evictStalled frees the buffer of a partial piece that no peer is sending (all its requests
// were given back): its received blocks are dropped and fetched again later. Without it,
// pieces whose holders left could hold every buffer and stall the download. It reports whether
// a buffer was freed.
func (c *Core) evictStalled() bool {
	for _, sp := range c.picker.active {
		if c.picker.state[sp.piece] == statusPartial && requestsOf(sp) == 0 {
			c.picker.PieceFailed(sp.piece) // forget its received blocks; nobody is to blame
			return true
		}
	}
	return false
}
