package metadata

import (
	"fmt"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// The info dict by ut_metadata (BEP 9). First in parallel: the pieces are spread over the peers
// that announced the same metadata_size, and the assembled dict is checked against the
// info-hash. If it fails (or peers disagree on the size), we cannot tell which piece lied unless
// one peer sent them all: that peer is dropped; otherwise the fetch goes solo, where each peer
// sends the whole dict on its own and a dict that fails convicts its sender alone.

// infoState is the info dict being assembled in parallel, or the solo mode's switch.
type infoState struct {
	size     int64       // the agreed metadata_size; 0 until a peer announced one
	pieces   [][]byte    // nil: missing
	from     []*peerConn // the sender of each piece
	inflight []*peerConn // whom each missing piece is asked of
	missing  int
	solo     bool
}

// init starts the parallel assembly of a dict of size bytes.
func (s *infoState) init(size int64) {
	n := wire.MetadataPieces(size)
	s.size, s.missing = size, n
	s.pieces, s.from, s.inflight = make([][]byte, n), make([]*peerConn, n), make([]*peerConn, n)
}

// release gives back piece, asked of p and unanswered.
func (s *infoState) release(p *peerConn, piece int) {
	if !s.solo && piece < len(s.inflight) && s.inflight[piece] == p {
		s.inflight[piece] = nil
	}
}

// goSolo abandons the parallel assembly.
func (s *infoState) goSolo() {
	*s = infoState{solo: true}
}

// pieceLen is the length of piece i of a dict of size bytes.
func pieceLen(size int64, i int) int {
	return int(min(size-int64(i)*wire.MetadataPieceSize, wire.MetadataPieceSize))
}

// assignInfo returns the metadata requests p should be sent now. Called under mu.
func (f *fetch) assignInfo(p *peerConn, now time.Time) []wire.Message {
	if p.metadataID == 0 || p.size == 0 || now.Before(p.pauseUntil) {
		return nil
	}
	s := &f.info
	if !s.solo && s.size == 0 {
		s.init(p.size)
	}
	if !s.solo && p.size != s.size {
		f.cfg.Log.Info("Peers disagree on the info dict's size: fetching it from each peer alone",
			"peer", p.addr, "size", p.size, "agreed", s.size)
		f.abandonParallel()
	}
	var msgs []wire.Message
	for piece := 0; piece < wire.MetadataPieces(p.size) && len(p.asked) < maxOutstanding; piece++ {
		if _, ok := p.asked[piece]; ok || !f.wants(p, piece) {
			continue
		}
		if !s.solo {
			s.inflight[piece] = p
		}
		p.asked[piece] = now
		req := wire.MetadataMsg{Type: wire.MetadataRequest, Piece: piece}
		msgs = append(msgs, wire.ExtendedMessage(p.metadataID, req.Body()))
	}
	return msgs
}

// wants reports whether piece should be asked of p: missing and asked of nobody (parallel), or
// missing from p's own copy (solo).
func (f *fetch) wants(p *peerConn, piece int) bool {
	if f.info.solo {
		return p.own == nil || p.own[piece] == nil
	}
	return f.info.pieces[piece] == nil && f.info.inflight[piece] == nil
}

// abandonParallel switches to solo mode: every peer's requests are forgotten (their answers
// will be unrequested and ignored... asked again in solo mode).
func (f *fetch) abandonParallel() {
	f.info.goSolo()
}

// onExtended applies p's extension handshake or ut_metadata message; other extensions are
// ignored. Called under mu.
func (f *fetch) onExtended(p *peerConn, m wire.Message, now time.Time) error {
	ext, body, err := wire.ParseExtended(m.Payload)
	if err != nil {
		return err
	}
	switch ext {
	case wire.ExtHandshakeID:
		h, err := wire.ParseExtHandshake(body)
		if err != nil {
			return err
		}
		return f.onExtHandshake(p, h)
	case utMetadataID:
		msg, err := wire.ParseMetadataMsg(body)
		if err != nil {
			return err
		}
		return f.onMetadata(p, msg, now)
	}
	return nil
}

// onExtHandshake records what p offers; a metadata_size past the limit drops it.
func (f *fetch) onExtHandshake(p *peerConn, h wire.ExtHandshake) error {
	if h.MetadataSize > f.cfg.MaxInfoBytes {
		return fmt.Errorf("%w: %d bytes, the limit is %d", errTooBig, h.MetadataSize, f.cfg.MaxInfoBytes)
	}
	if p.size != 0 && h.MetadataSize != 0 && h.MetadataSize != p.size {
		return fmt.Errorf("%w: metadata_size changed from %d to %d", errBadPeer, p.size, h.MetadataSize)
	}
	if h.MetadataSize > 0 {
		p.size = h.MetadataSize
	}
	p.metadataID = h.M[wire.UTMetadata]
	return nil
}

// onMetadata applies a data or reject message: a piece we did not ask p for, or of the wrong
// length or total size, drops p. Called under mu.
func (f *fetch) onMetadata(p *peerConn, m wire.MetadataMsg, now time.Time) error {
	if _, asked := p.asked[m.Piece]; !asked {
		if m.Type == wire.MetadataData {
			return fmt.Errorf("%w: metadata piece %d we did not ask for", errBadPeer, m.Piece)
		}
		return nil // a reject or an unknown type of a request we gave up
	}
	switch m.Type {
	case wire.MetadataReject:
		delete(p.asked, m.Piece)
		f.info.release(p, m.Piece)
		p.rejects++
		p.pauseUntil = now.Add(rejectPause)
		if p.rejects >= maxRejects {
			return fmt.Errorf("%w: %d metadata requests rejected", errUseless, p.rejects)
		}
		return nil
	case wire.MetadataData:
	default:
		return nil
	}
	if m.TotalSize != p.size || len(m.Data) != pieceLen(p.size, m.Piece) {
		return fmt.Errorf("%w: metadata piece %d of %d bytes (total %d), want %d (total %d)",
			errBadPeer, m.Piece, len(m.Data), m.TotalSize, pieceLen(p.size, m.Piece), p.size)
	}
	delete(p.asked, m.Piece)
	p.rejects = 0 // counted in a row (maxRejects)
	if f.info.solo {
		return f.soloPiece(p, m)
	}
	return f.parallelPiece(p, m)
}

// parallelPiece stores a piece of the parallel assembly and checks the dict once complete.
func (f *fetch) parallelPiece(p *peerConn, m wire.MetadataMsg) error {
	s := &f.info
	if p.size != s.size || s.pieces[m.Piece] != nil {
		return nil // asked before the switch to solo, or answered twice
	}
	s.pieces[m.Piece], s.from[m.Piece], s.inflight[m.Piece] = m.Data, p, nil
	if s.missing--; s.missing > 0 {
		return nil
	}
	info := make([]byte, 0, s.size)
	senders := make(map[*peerConn]bool)
	for i, piece := range s.pieces {
		info = append(info, piece...)
		senders[s.from[i]] = true
	}
	if f.checkInfo(info) {
		return nil
	}
	f.cfg.Log.Info("The info dict from several peers does not match the info-hash: fetching it from each peer alone",
		"peers", len(senders))
	f.abandonParallel()
	if len(senders) == 1 {
		return fmt.Errorf("%w: its info dict does not match the info-hash", errBadPeer)
	}
	return nil
}

// soloPiece stores a piece of p's own copy and checks it once complete: a copy that fails
// drops p.
func (f *fetch) soloPiece(p *peerConn, m wire.MetadataMsg) error {
	if p.own == nil {
		p.own = make([][]byte, wire.MetadataPieces(p.size))
	}
	p.own[m.Piece] = m.Data
	info := make([]byte, 0, p.size)
	for _, piece := range p.own {
		if piece == nil {
			return nil
		}
		info = append(info, piece...)
	}
	p.own = nil
	if f.checkInfo(info) {
		return nil
	}
	return fmt.Errorf("%w: its info dict does not match the info-hash", errBadPeer)
}
