package peer

import "time"

// Request pipeline defaults, after libtorrent's request_queue_time: keep about 3 s of the
// connection's measured rate in flight, so a fast peer is never idle waiting for our next
// request, and a slow one is not handed blocks that others could deliver sooner.
const (
	// DefaultRequestQueueTime is how many seconds of a connection's rate we keep requested.
	DefaultRequestQueueTime = 3 * time.Second
	// DefaultMinRequestDepth is the pipeline depth of a new or slow (but not snubbed) connection.
	DefaultMinRequestDepth = 4
	// DefaultMaxRequestDepth caps the pipeline (256 blocks: 4 MiB in flight).
	DefaultMaxRequestDepth = 256
	// DefaultRequestTimeout is how long a connection with requests outstanding may stay silent
	// before they are handed to other peers and it is snubbed: the note's network timeout.
	DefaultRequestTimeout = 10 * time.Second
	// snubbedDepth is the pipeline of a snubbed connection: one request at a time until it
	// delivers again.
	snubbedDepth = 1
)

// blockLength is the size of one request (16 KiB), the unit of the pipeline.
const blockLength = 16 << 10

// pipelineConfig sizes the request pipeline of every connection.
type pipelineConfig struct {
	QueueTime time.Duration
	MinDepth  int
	MaxDepth  int
}

// requestDepth is how many requests a connection should have outstanding: its download rate
// (bytes/s) times the queue time, in blocks, between MinDepth and MaxDepth; 1 when snubbed.
func (p pipelineConfig) requestDepth(rate float64, snubbed bool) int {
	if snubbed {
		return snubbedDepth
	}
	depth := int(rate * p.QueueTime.Seconds() / blockLength)
	return min(max(depth, p.MinDepth), p.MaxDepth)
}
