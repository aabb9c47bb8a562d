package metadata

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// Bounds of one peer connection.
const (
	// maxOutstanding is how many metadata pieces we ask one peer for at once.
	maxOutstanding = 4
	// maxRejects drops a peer that rejected this many of our requests in a row: a peer that
	// rejects past a rate (as MiniBit does) and then serves again is slow, not useless.
	maxRejects = 16
	// rejectPause is how long a peer that rejected a request is left alone (MiniBit rejects
	// past its per-second rate).
	rejectPause = time.Second
	// pollInterval is how often an idle peer looks for work freed by others, and stalls are
	// checked.
	pollInterval = 100 * time.Millisecond
	// idleReadTimeout closes a connection from which nothing came for so long (BEP 3's two
	// minutes: peers send keep-alives within it).
	idleReadTimeout = 2 * time.Minute
	// utMetadataID is the extended id under which we receive ut_metadata messages.
	utMetadataID = 1
)

// Errors that drop a peer.
var (
	errStalled   = errors.New("the peer left our request unanswered past the stall timeout")
	errBadPeer   = errors.New("the peer sent data that does not check")
	errUseless   = errors.New("the peer offers nothing we need")
	errTooBig    = errors.New("the peer announced an info dict past the size limit")
	errDuplicate = errors.New("the peer is ourselves")
)

// peerConn is our connection to one peer: its socket, what it offered, what we asked of it.
// The fetch's mutex guards the fields its goroutine shares with the others (bad, and what
// assign and deliver change).
type peerConn struct {
	addr   netip.AddrPort
	nc     net.Conn
	w      *wire.Writer
	msgs   chan wire.Message // from its reader goroutine (payloads copied)
	readEr chan error        // the reader's end, once

	hashes     bool  // its handshake set the hash messages' bit
	extended   bool  // its handshake set the extension bit
	metadataID uint8 // its extended id of ut_metadata; 0: it has not offered it (yet)
	size       int64 // its metadata_size
	connected  time.Time

	asked      map[int]time.Time // metadata pieces asked of it
	own        [][]byte          // solo mode: the pieces it sent (its own copy of the dict)
	rejects    int               // our requests it rejected in a row
	pauseUntil time.Time
	chunk      *chunk // the hash request it has outstanding
	chunkAt    time.Time
}

// dial connects to addr and exchanges the BT handshake (and our extension handshake), within
// the dial timeout.
func dial(ctx context.Context, cfg Config, addr netip.AddrPort) (*peerConn, error) {
	d := net.Dialer{Timeout: cfg.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return nil, err
	}
	p, err := handshake(nc, cfg, addr)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	return p, nil
}

// handshake sends ours (fast, hash messages, extension protocol), reads theirs, and sends
// have-none and our extension handshake.
func handshake(nc net.Conn, cfg Config, addr netip.AddrPort) (*peerConn, error) {
	if err := nc.SetDeadline(time.Now().Add(cfg.DialTimeout)); err != nil {
		return nil, err
	}
	ours := wire.Handshake{InfoHash: cfg.InfoHash, PeerID: cfg.PeerID}
	ours.SetFast()
	ours.SetHashes()
	ours.SetExtended()
	if err := wire.WriteHandshake(nc, ours); err != nil {
		return nil, fmt.Errorf("send handshake: %w", err)
	}
	theirs, err := wire.ReadHandshake(nc)
	if err != nil {
		return nil, fmt.Errorf("read handshake: %w", err)
	}
	switch {
	case theirs.InfoHash != cfg.InfoHash:
		return nil, fmt.Errorf("%w: handshake for another torrent (%x)", wire.ErrMalformed, theirs.InfoHash)
	case theirs.PeerID == cfg.PeerID:
		return nil, errDuplicate
	case !theirs.Extended():
		return nil, fmt.Errorf("%w: no extension protocol", errUseless)
	}
	p := &peerConn{
		addr: addr, nc: nc, w: wire.NewWriter(nc),
		msgs: make(chan wire.Message), readEr: make(chan error, 1),
		hashes: theirs.Hashes(), extended: true, connected: time.Now(),
		asked: make(map[int]time.Time),
	}
	ext := wire.ExtHandshake{M: map[string]uint8{wire.UTMetadata: utMetadataID}, V: "MiniBit", Reqq: maxOutstanding}
	var first []wire.Message
	if theirs.Fast() {
		first = append(first, wire.Message{ID: wire.HaveNone})
	}
	first = append(first, wire.ExtendedMessage(wire.ExtHandshakeID, ext.Body()))
	if err := p.w.WriteMessages(first...); err != nil {
		return nil, fmt.Errorf("send extension handshake: %w", err)
	}
	return p, nc.SetDeadline(time.Time{})
}

// readLoop hands the peer's messages to its goroutine, copied (the reader reuses its buffer),
// until an error; the reader bounds each message (wire.Reader), a bitfield by the largest
// piece count an info dict of MaxInfoBytes can describe.
func (p *peerConn) readLoop(ctx context.Context, maxInfo int64) {
	r := wire.NewReader(p.nc, int(min(maxInfo/20/8+1, 1<<30)))
	for {
		if err := p.nc.SetReadDeadline(time.Now().Add(idleReadTimeout)); err != nil {
			p.readEr <- err
			return
		}
		m, err := r.Read()
		if err != nil {
			p.readEr <- err
			return
		}
		if m.KeepAlive {
			continue
		}
		m.Payload = append([]byte(nil), m.Payload...)
		select {
		case p.msgs <- m:
		case <-ctx.Done():
			return
		}
	}
}

// send writes msgs within the dial timeout.
func (p *peerConn) send(cfg Config, msgs []wire.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := p.nc.SetWriteDeadline(time.Now().Add(cfg.DialTimeout)); err != nil {
		return err
	}
	return p.w.WriteMessages(msgs...)
}

// stalled reports a request of ours unanswered past the stall timeout.
func (p *peerConn) stalled(now time.Time, timeout time.Duration) bool {
	for _, at := range p.asked {
		if now.Sub(at) > timeout {
			return true
		}
	}
	return p.chunk != nil && now.Sub(p.chunkAt) > timeout
}

// runPeer connects to addr and works with it until the fetch ends or the peer is dropped.
func (f *fetch) runPeer(ctx context.Context, addr netip.AddrPort) {
	p, err := dial(ctx, f.cfg, addr)
	if err != nil {
		f.cfg.Log.Debug("Metadata peer not usable", "peer", addr, "err", err)
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = p.nc.Close() })
	defer stop()
	go p.readLoop(ctx, f.cfg.MaxInfoBytes)
	err = f.work(ctx, p)
	f.mu.Lock()
	f.forget(p)
	f.mu.Unlock()
	_ = p.nc.Close()
	if err != nil && ctx.Err() == nil {
		f.cfg.Log.Info("Metadata peer dropped", "peer", addr, "err", err)
	}
}

// work asks p for what the fetch still needs and applies its answers until the fetch ends,
// ctx ends, or p fails.
func (f *fetch) work(ctx context.Context, p *peerConn) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		now := time.Now()
		f.mu.Lock()
		msgs, err := f.assign(p, now)
		f.mu.Unlock()
		if err != nil {
			return err
		}
		if err := p.send(f.cfg, msgs); err != nil {
			return err
		}
		if p.stalled(now, f.cfg.StallTimeout) {
			return errStalled
		}
		select {
		case m := <-p.msgs:
			f.mu.Lock()
			err = f.deliver(p, m, time.Now())
			f.mu.Unlock()
			if err != nil {
				return err
			}
		case err := <-p.readEr:
			return fmt.Errorf("read: %w", err)
		case <-tick.C:
		case <-ctx.Done():
			return nil
		}
	}
}

// assign returns the requests p should be sent now: metadata pieces while the info dict is
// missing, then a hash request for a piece layer's chunk. It returns an error when p offers nothing the
// fetch still needs. Called under mu.
func (f *fetch) assign(p *peerConn, now time.Time) ([]wire.Message, error) {
	switch {
	case f.done || f.err != nil:
		return nil, context.Canceled
	case f.meta == nil && p.metadataID == 0 && now.Sub(p.connected) > f.cfg.StallTimeout:
		return nil, fmt.Errorf("%w: no ut_metadata offered within the stall timeout", errUseless)
	case f.meta == nil:
		return f.assignInfo(p, now), nil
	case !p.hashes:
		return nil, errUseless
	}
	if p.chunk != nil {
		return nil, nil
	}
	c := f.layers.claim()
	if c == nil {
		return nil, nil // every chunk is asked of someone: wait for one to come back
	}
	p.chunk, p.chunkAt = c, now
	return []wire.Message{c.hashRange().Message(wire.HashRequest)}, nil
}

// deliver applies one of p's messages. An error drops p. Called under mu.
func (f *fetch) deliver(p *peerConn, m wire.Message, now time.Time) error {
	switch m.ID {
	case wire.Extended:
		return f.onExtended(p, m, now)
	case wire.Hashes:
		return f.onHashes(p, m)
	case wire.HashReject:
		if r, err := wire.ParseHashRange(m.Payload); err == nil && p.chunk != nil && r == p.chunk.hashRange() {
			f.layers.release(p.chunk)
			p.chunk, p.hashes = nil, false // it will not answer: ask others
		}
	}
	return nil // BEP 3 and 6 messages: we download nothing on this connection
}

// forget gives back what p was asked and had not answered. Called under mu.
func (f *fetch) forget(p *peerConn) {
	for piece := range p.asked {
		f.info.release(p, piece)
	}
	clear(p.asked)
	if p.chunk != nil && f.layers != nil {
		f.layers.release(p.chunk)
		p.chunk = nil
	}
}
