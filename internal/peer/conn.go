package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/wire"
)

// Connection defaults: the design note's network timeout (10 s) on every dial and write;
// BEP 3's two-minute idle rule with a keep-alive every minute.
const (
	// DefaultTimeout bounds a dial and every write: the note's network timeout (a handshake has
	// the shorter DefaultHandshakeTimeout).
	DefaultTimeout = 10 * time.Second
	// DefaultIdleTimeout drops a peer from which nothing (not even a keep-alive) came for so long.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultKeepAliveInterval is how often a keep-alive is sent on a connection otherwise silent.
	DefaultKeepAliveInterval = 60 * time.Second
	// DefaultMaxPeerRequests bounds the requests a peer may have queued at us; more is a flood
	// and the connection is closed.
	DefaultMaxPeerRequests = core.DefaultMaxPeerRequests
	// controlQueueSlack bounds the control messages queued to a peer, beyond one Have per piece:
	// a peer that does not read them is dropped rather than letting the queue grow.
	controlQueueSlack = 1024
)

// errProtocol marks a remote peer breaking the wire protocol; the connection is closed.
var errProtocol = core.ErrProtocol

func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errProtocol, fmt.Sprintf(format, args...))
}

// conn is one TCP connection to a remote peer, past the handshake: the shell's half of it (the
// core keeps its protocol state). A reader goroutine decodes the peer's messages and hands them
// to the core; a writer goroutine sends the queued control messages first, then serves the
// peer's requests, several blocks per write.
type conn struct {
	s        *Session
	nc       net.Conn
	info     core.PeerInfo
	key      core.ConnKey
	id       [20]byte
	addr     netip.AddrPort // the remote address (for a dialled peer, its listen address)
	outgoing bool
	twin     *twinConn       // non-nil under the v1 twin's info-hash: a v1-only connection (twin.go)
	ctx      context.Context // ends when the connection closes
	cancel   context.CancelFunc

	// Owner: qmu guards the outgoing control queue, read by the writer goroutine.
	qmu      sync.Mutex
	ctrl     []wire.Message // control messages (have, choke, request, ...) in order
	granted  []core.Block   // blocks the upload scheduler paid for, to send next (scheduler.go)
	maxCtrl  int
	wake     chan struct{} // capacity 1: tells the writer there is work
	closed   chan struct{}
	once     sync.Once
	closeErr error
}

func newConn(s *Session, nc net.Conn, info core.PeerInfo) *conn {
	ctx, cancel := context.WithCancel(s.ctx)
	return &conn{
		s: s, nc: nc, info: info, id: info.ID, addr: info.Addr, outgoing: info.Outgoing,
		ctx: ctx, cancel: cancel,
		maxCtrl: s.meta.NumPieces() + controlQueueSlack,
		wake:    make(chan struct{}, 1),
		closed:  make(chan struct{}),
	}
}

// readHandshake reads the remote's BEP 3 handshake within HandshakeTimeout; an outgoing
// connection sends ours first. We set the fast bit (BEP 6). The remote may name the swarm by
// our v1 info-hash or, on an incoming connection, by the truncated v2 info-hash. It returns
// the remote's handshake and, for an incoming connection, ours to answer with (the info-hash
// it used); the deadline stays set until writeHandshake.
func (s *Session) readHandshake(nc net.Conn, outgoing bool) (theirs, ours wire.Handshake, err error) {
	if err := nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout)); err != nil {
		return theirs, ours, err
	}
	ours = wire.Handshake{InfoHash: s.infoHashV1, PeerID: s.cfg.PeerID}
	ours.SetFast()
	ours.SetHashes()   // we answer and send BEP 52 hash messages (blame.go)
	ours.SetExtended() // BEP 10: we serve the info dict by ut_metadata (core/extension.go)
	if outgoing && s.twin.dials(remoteAddrPort(nc)) {
		ours = s.twin.handshake(s.cfg.PeerID)
	}
	if outgoing {
		if err := wire.WriteHandshake(nc, ours); err != nil {
			return theirs, ours, fmt.Errorf("send handshake: %w", err)
		}
	}
	if theirs, err = wire.ReadHandshake(nc); err != nil {
		return theirs, ours, fmt.Errorf("read handshake: %w", err)
	}
	switch {
	case theirs.InfoHash == ours.InfoHash:
	case !outgoing && theirs.InfoHash == s.infoHashV2Short:
		ours.InfoHash = s.infoHashV2Short
	case !outgoing && s.twin.is(theirs.InfoHash):
		ours = s.twin.handshake(s.cfg.PeerID)
	default:
		return theirs, ours, protocolError("handshake for another torrent (info-hash %x)", theirs.InfoHash)
	}
	if theirs.PeerID == s.cfg.PeerID {
		return theirs, ours, errSelf
	}
	if outgoing {
		return theirs, ours, nc.SetDeadline(time.Time{})
	}
	return theirs, ours, nil
}

// writeHandshake answers an incoming connection's handshake and clears the deadline.
func (s *Session) writeHandshake(nc net.Conn, ours wire.Handshake) error {
	if err := wire.WriteHandshake(nc, ours); err != nil {
		return fmt.Errorf("send handshake: %w", err)
	}
	return nc.SetDeadline(time.Time{})
}

// isTimeout reports a deadline that expired.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// errSelf is a connection to ourselves (our own address came back from the tracker or the
// static peer list).
var errSelf = errors.New("connected to ourselves")

// send queues control messages; it closes the connection if the peer stopped reading them.
func (c *conn) send(msgs ...wire.Message) {
	c.qmu.Lock()
	over := len(c.ctrl)+len(msgs) > c.maxCtrl
	if !over {
		c.ctrl = append(c.ctrl, msgs...)
	}
	c.qmu.Unlock()
	if over {
		c.close(fmt.Errorf("peer does not read: more than %d messages queued", c.maxCtrl))
		return
	}
	c.signal()
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// takeControl moves the queued control messages into ctrl.
func (c *conn) takeControl(ctrl []wire.Message) []wire.Message {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if len(c.ctrl) > 0 {
		ctrl = append(ctrl, c.ctrl...)
		clear(c.ctrl)
		c.ctrl = c.ctrl[:0]
	}
	return ctrl
}

// grant queues blocks the upload scheduler paid for and wakes the writer.
func (c *conn) grant(blocks []core.Block) {
	c.qmu.Lock()
	c.granted = append(c.granted, blocks...)
	c.qmu.Unlock()
	c.signal()
}

// takeGranted moves the granted blocks into dst and tells the scheduler this writer is free.
func (c *conn) takeGranted(dst []core.Block) []core.Block {
	c.qmu.Lock()
	n := len(c.granted)
	dst = append(dst, c.granted...)
	c.granted = c.granted[:0]
	c.qmu.Unlock()
	if n > 0 {
		c.s.upSched.signal()
	}
	return dst
}

// grantTaken reports whether the writer took every granted block.
func (c *conn) grantTaken() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return len(c.granted) == 0
}

// close closes the connection once, recording why; both goroutines then return.
func (c *conn) close(err error) {
	c.once.Do(func() {
		c.closeErr = err
		c.cancel()
		close(c.closed)
		_ = c.nc.Close()
	})
}

// writeLoop sends queued messages and served blocks (several per write) until the connection closes, and a
// keep-alive when nothing else went out for a keep-alive interval. Every write has a deadline.
func (c *conn) writeLoop() {
	keepAlive := time.NewTicker(c.s.cfg.KeepAliveInterval / 2)
	defer keepAlive.Stop()
	lastWrite := time.Now()
	var ctrl []wire.Message
	var reqs []core.Block
	var buf []byte
	for {
		select {
		case <-c.closed:
			return
		case now := <-keepAlive.C:
			if now.Sub(lastWrite) >= c.s.cfg.KeepAliveInterval/2 {
				if err := c.write(wire.AppendMessage(buf[:0], wire.Message{KeepAlive: true})); err != nil {
					c.close(err)
					return
				}
				lastWrite = now
			}
			continue
		case <-c.wake:
		}
		if err := c.flushWork(&buf, &ctrl, &reqs); err != nil {
			c.close(err)
			return
		}
		buf = recycleWriteBuffer(buf)
		lastWrite = time.Now()
	}
}

// flushWork writes everything queued, control messages first, then the blocks to serve (the
// scheduler's grant, or up to maxUploadBatch requests uncapped), with one write per batch, until
// both queues are empty. buf, ctrl and reqs are the writer's reused buffers.
func (c *conn) flushWork(buf *[]byte, ctrl *[]wire.Message, reqs *[]core.Block) error {
	for {
		*ctrl = c.takeControl((*ctrl)[:0])
		*reqs = c.s.takeUploads(c, (*reqs)[:0])
		if len(*ctrl) == 0 && len(*reqs) == 0 {
			return nil
		}
		b := (*buf)[:0]
		for _, m := range *ctrl {
			b = wire.AppendMessage(b, m)
		}
		clear(*ctrl)
		b, payload, err := c.s.appendBlocks(b, *reqs)
		*buf = b
		if err != nil {
			return err
		}
		if len(b) == 0 {
			continue
		}
		if err := c.write(b); err != nil {
			return err
		}
		if payload > 0 {
			c.s.uploaded(c, payload)
		}
	}
}

// write sends p within the timeout.
func (c *conn) write(p []byte) error {
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.Timeout)); err != nil {
		return err
	}
	if _, err := c.nc.Write(p); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// readLoop reads, validates and dispatches the peer's messages until an error: the peer
// closed, went silent past the idle timeout, or broke the protocol.
func (c *conn) readLoop() error {
	r := wire.NewReader(c.nc, c.s.maxPayload())
	var renewed time.Time
	for {
		if err := c.renewReadDeadline(&renewed); err != nil {
			return err
		}
		m, err := r.Read()
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if m.KeepAlive {
			continue
		}
		if m.ID == wire.Piece {
			if err := c.s.downLimit.WaitN(c.ctx, len(m.Payload)); err != nil {
				return err
			}
		}
		if err := c.handle(m); err != nil { // twin.go
			return err
		}
	}
}

// deadlineRenewal is how often the reader moves its idle deadline: once per second (a quarter
// of the idle timeout if that is shorter) rather than per message, since a connection receiving
// blocks reads hundreds a second. A silent peer is dropped at most that much before IdleTimeout
// after its last message.
const deadlineRenewal = time.Second

// renewReadDeadline moves the read deadline to IdleTimeout from now if it was last moved long
// enough ago (*renewed records when).
func (c *conn) renewReadDeadline(renewed *time.Time) error {
	now := time.Now()
	if now.Sub(*renewed) < min(deadlineRenewal, c.s.cfg.IdleTimeout/4) {
		return nil
	}
	*renewed = now
	return c.nc.SetReadDeadline(now.Add(c.s.cfg.IdleTimeout))
}

// maxPayload is the largest message payload we accept: a block, or a bitfield of our torrent.
func (s *Session) maxPayload() int {
	return max(wire.BlockSize, (s.meta.NumPieces()+7)/8)
}

// isRoutineClose reports whether err is an ordinary end of a connection, logged at debug level.
func isRoutineClose(err error) bool {
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, context.Canceled) || errors.Is(err, core.ErrBothSeeds) || errors.Is(err, errDuplicate) ||
		errors.Is(err, core.ErrEvicted)
}
