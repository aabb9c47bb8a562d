package core

import (
	"log/slog"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// The extension protocol (BEP 10) and the metadata extension (BEP 9): when both handshakes set
// the extension bit, we send our extension handshake (advertising ut_metadata and the info
// dict's size) right after our bitfield, and answer the peer's ut_metadata requests from the
// torrent's info bytes, within a per-connection budget. Other extensions are ignored.

// Our extension handshake.
const (
	// utMetadataID is the extended id under which we receive ut_metadata messages.
	utMetadataID = 3
	// clientName is our handshake's "v".
	clientName = "MiniBit"
)

// Bounds of the metadata we serve one connection: a peer that asks for more is rejected.
const (
	// metadataBudgetFactor: a connection may fetch the info dict this many times over (a retry
	// after a failed check), plus one piece.
	metadataBudgetFactor = 2
	// metadataPiecesPerSecond bounds the pieces served one connection per second (a window
	// over the events' time): what a peer that does not read can make us queue.
	metadataPiecesPerSecond = 64
)

// extState is one connection's extension protocol state.
type extState struct {
	metadataID   uint8     // the peer's extended id for ut_metadata; 0: it did not offer it
	served       int64     // metadata bytes sent to it
	layersServed int64     // piece layer hashes sent to it (piecelayer.go)
	windowStart  time.Time // the current one-second window of metadataPiecesPerSecond
	windowCount  int
}

// sendExtHandshake queues our extension handshake to p if both sides set the extension bit.
func (c *Core) sendExtHandshake(p *peerConn) {
	if !p.Extended {
		return
	}
	h := wire.ExtHandshake{
		M:            map[string]uint8{wire.UTMetadata: utMetadataID},
		V:            clientName,
		Reqq:         c.cfg.MaxPeerRequests,
		MetadataSize: int64(len(c.metadata())),
	}
	c.send(p.key, wire.ExtendedMessage(wire.ExtHandshakeID, h.Body()))
}

// metadata is the torrent's info dict, as served by ut_metadata (one copy, made once).
func (c *Core) metadata() []byte {
	if c.info == nil {
		c.info = c.meta.InfoBytes()
	}
	return c.info
}

// onExtended applies an extended message: the peer's extension handshake or a ut_metadata
// message; messages of extensions we did not offer are ignored (BEP 10).
func (c *Core) onExtended(now time.Time, p *peerConn, m wire.Message) error {
	if !p.Extended {
		return protocolError("extended message without the extension bit")
	}
	ext, body, err := wire.ParseExtended(m.Payload)
	if err != nil {
		return protocolError("%v", err)
	}
	switch ext {
	case wire.ExtHandshakeID:
		h, err := wire.ParseExtHandshake(body)
		if err != nil {
			return protocolError("extension handshake: %v", err)
		}
		p.ext.metadataID = h.M[wire.UTMetadata]
		return nil
	case utMetadataID:
		msg, err := wire.ParseMetadataMsg(body)
		if err != nil {
			return protocolError("ut_metadata: %v", err)
		}
		if msg.Type == wire.MetadataRequest {
			c.onMetadataRequest(now, p, msg.Piece)
		}
		return nil // data and rejects: we never ask; unknown types: ignored (BEP 9)
	}
	return nil
}

// onMetadataRequest answers a ut_metadata request with the piece, or a reject when the piece
// does not exist or the connection is past its budget or its rate. A peer that did not offer
// ut_metadata in its handshake cannot be answered: its request is ignored.
func (c *Core) onMetadataRequest(now time.Time, p *peerConn, piece int) {
	if p.ext.metadataID == 0 {
		return
	}
	info := c.metadata()
	data, ok := wire.MetadataPiece(info, piece)
	if ok && !c.metadataAllowed(now, p, len(data)) {
		ok = false
		c.logf(slog.LevelDebug, "Metadata request rejected: past the connection's bound", "peer", p.Addr, "piece", piece)
	}
	reply := wire.MetadataMsg{Type: wire.MetadataReject, Piece: piece}
	if ok {
		reply = wire.MetadataMsg{Type: wire.MetadataData, Piece: piece, TotalSize: int64(len(info)), Data: data}
		p.ext.served += int64(len(data))
		c.counters.MetadataPiecesServed++
	} else {
		c.counters.MetadataRequestsRejected++
	}
	c.send(p.key, wire.ExtendedMessage(p.ext.metadataID, reply.Body()))
}

// metadataAllowed reports whether p may be sent n more metadata bytes now: within its budget
// and within metadataPiecesPerSecond in the current window.
func (c *Core) metadataAllowed(now time.Time, p *peerConn, n int) bool {
	if p.ext.served+int64(n) > c.metadataBudget() {
		return false
	}
	if now.Sub(p.ext.windowStart) >= time.Second || now.Before(p.ext.windowStart) {
		p.ext.windowStart, p.ext.windowCount = now, 0
	}
	if p.ext.windowCount >= metadataPiecesPerSecond {
		return false
	}
	p.ext.windowCount++
	return true
}

// metadataBudget is the metadata bytes one connection may be sent.
func (c *Core) metadataBudget() int64 {
	return metadataBudgetFactor*int64(len(c.metadata())) + wire.MetadataPieceSize
}
