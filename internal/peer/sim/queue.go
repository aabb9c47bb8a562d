package sim

import (
	"container/heap"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// eventKind is what an event does when its virtual time comes.
type eventKind uint8

const (
	evJoin         eventKind = iota // a peer joins the swarm and announces
	evLeave                         // a peer leaves: its connections close
	evAnnounce                      // a peer asks the tracker for more peers
	evConnect                       // a dial's handshakes: both ends register the connection
	evDialScan                      // a peer's dialer asks its core what is due (every second)
	evDialWake                      // a peer's dialer looks again after a duplicate's wait
	evDialEnded                     // a dialled connection the dialler closed ended
	evDeliver                       // messages arrive at one end of a connection
	evClosed                        // the remote end of a connection noticed it closed
	evUploadDone                    // a peer's uplink finished a batch of blocks
	evVerified                      // the verifier's outcome for a piece
	evHashesServed                  // a hash answer was sent
	evFileComplete                  // the file is finished (the shell's onComplete)
	evTick                          // the once-a-second timer
	evChoke                         // a choking round
	evSample                        // the progress sample (every second)
)

// event is one thing that happens at a virtual instant. Which fields are set depends on kind.
type event struct {
	at    time.Duration // virtual time since the start
	seq   uint64        // ties in time are broken by the order of scheduling
	kind  eventKind
	node  *node
	conn  *link
	msgs  []wire.Message
	piece int
	data  []byte
	n     int
}

// queue is the event queue: a binary heap by virtual time, then sequence number.
type queue []*event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

// schedule queues e at virtual time at.
func (s *Sim) schedule(at time.Duration, e *event) {
	s.seq++
	e.at, e.seq = at, s.seq
	heap.Push(&s.events, e)
}

// next takes the earliest event off the queue and moves the clock to it; nil when none is left.
func (s *Sim) next() *event {
	if len(s.events) == 0 {
		return nil
	}
	e := heap.Pop(&s.events).(*event)
	s.now = e.at
	return e
}

// wall is the virtual instant the cores see: a fixed epoch plus the virtual time.
func (s *Sim) wall(at time.Duration) time.Time { return epoch.Add(at) }

// epoch is virtual time zero (any fixed instant: the cores only compare times).
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
