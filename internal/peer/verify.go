package peer

import (
	"runtime"
)

// verifyJob is one complete piece waiting for its hash check.
type verifyJob struct {
	piece int
	pb    *pieceBuffer
}

// verifier checks complete pieces (SHA-256 merkle) and writes them on a few goroutines of its
// own, so that a connection's reader goes back to its socket at once instead of hashing and
// writing 256 KiB after every piece's last block. Its queue holds at most one job per piece
// buffer, so sending to it never blocks (the buffer pool bounds the jobs in flight).
// Owner: the channel; each job's buffer belongs to the worker that receives it.
type verifier struct {
	jobs chan verifyJob
}

func newVerifier(maxJobs int) *verifier {
	return &verifier{jobs: make(chan verifyJob, maxJobs)}
}

// verifyWorkers is how many pieces are hashed at once: one per CPU the runtime may use.
func verifyWorkers() int { return max(runtime.GOMAXPROCS(0), 1) }

// submitPiece hands a complete piece to the workers; at shutdown the piece is dropped.
func (s *Session) submitPiece(piece int, pb *pieceBuffer) {
	select {
	case s.verify.jobs <- verifyJob{piece: piece, pb: pb}:
	case <-s.ctx.Done():
	}
}

// verifyLoop is one verification worker; it returns when the session ends.
func (s *Session) verifyLoop() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case job := <-s.verify.jobs:
			s.verifyPiece(job.piece, job.pb)
		}
	}
}
