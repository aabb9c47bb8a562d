package peer

import (
	"errors"
	"runtime"
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
)

// verifyJob is one complete piece waiting for its hash check.
type verifyJob struct {
	piece      int
	data       []byte
	needLeaves bool // a suspect piece: its leaf hashes prove its blocks even if it passes
}

// verifier checks complete pieces (SHA-256 merkle) and writes them on a few goroutines of its
// own, so that a connection's reader goes back to its socket at once instead of hashing and
// writing 256 KiB after every piece's last block. Its queue holds one job per piece buffer, so
// a submit never waits (the core's buffer pool bounds the jobs in flight).
// Owner: the channel; each job's buffer belongs to the worker that receives it until it hands
// the outcome back to the core.
type verifier struct {
	jobs chan verifyJob
}

func newVerifier(maxJobs int) *verifier {
	return &verifier{jobs: make(chan verifyJob, maxJobs)}
}

// verifyQueue is the verifier's queue: one job per piece buffer.
func verifyQueue(cfg Config) int {
	return core.BufferCount(cfg.MaxBufferedBytes, cfg.Torrent.Info.PieceLength)
}

// verifyWorkers is how many pieces are hashed at once: one per CPU the runtime may use.
func verifyWorkers() int { return max(runtime.GOMAXPROCS(0), 1) }

// submit hands a complete piece to the workers (under the session's mutex: it never waits
// while the queue has a slot per buffer; a full queue, which cannot happen, hands over in the
// background).
func (v *verifier) submit(s *Session, job verifyJob) {
	select {
	case v.jobs <- job:
	default:
		s.goRun(func() {
			select {
			case v.jobs <- job:
			case <-s.ctx.Done():
			}
		})
	}
}

// verifyLoop is one verification worker; it returns when the session ends.
func (s *Session) verifyLoop() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case job := <-s.verify.jobs:
			s.verifyPiece(job)
		}
	}
}

// verifyPiece checks a complete piece outside the session's lock and hands it to the
// write-behind if it passes, then hands the outcome to the core, which announces it at once:
// the write-behind serves it from memory until it is on disk. The leaf hashes are computed only
// for a piece that failed or is suspect (the blame's evidence).
func (s *Session) verifyPiece(job verifyJob) {
	ok := s.meta.VerifyPiece(job.piece, job.data)
	var leaves []byte
	if !ok || job.needLeaves {
		leaves = s.meta.LeafHashes(job.piece, job.data)
	}
	var writeErr error
	if ok {
		// The write-behind keeps the piece's buffer and gives the core a spare one. A write
		// error stops the session (the write-behind reports it once); the core keeps the piece
		// missing.
		if job.data, writeErr = s.writes.hold(job.piece, job.data); errors.Is(writeErr, errWriteBehindClosed) {
			return
		}
	}
	s.event(func(c *core.Core) { c.PieceChecked(time.Now(), job.piece, job.data, ok, leaves, writeErr) })
}
