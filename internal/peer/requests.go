package peer

import "time"

// Request pipeline defaults, after libtorrent's request_queue_time: keep a short time of the
// connection's measured rate in flight, so a fast peer is never idle waiting for our next
// request, and a slow one is not handed blocks that others could deliver sooner.
//
// libtorrent keeps 3 s, sized for the Internet's round trips. Inside a cluster (and on one
// machine) a round trip is well under a millisecond, and a deep queue does harm: blocks queued at
// one capped uploader for seconds are blocks no other uploader may serve meanwhile, so uploaders
// idle while the pieces they could send wait elsewhere. In back-to-back runs the swarm lab
// measured the reference swarm (50 peers at 4 MiB/s) at 1.25 x T* with 3 s and 1.07-1.08 x T*
// with 50-100 ms, and the uncapped 8-peer run 10-15 % faster (docs/benchmarks.md).
const (
	// DefaultRequestQueueTime is how much of a connection's rate we keep requested: 100 ms.
	DefaultRequestQueueTime = 100 * time.Millisecond
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
