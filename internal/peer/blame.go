package peer

import (
	"bytes"
	"math"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// Blame finds who sent the bad block of a piece that failed verification, and bans only them.
// BitTorrent v2 gives each 16 KiB block a leaf hash, and a piece's hash is the merkle root of
// its leaves: leaf hashes that hash to the piece's hash are proven, whoever sent them. So:
//
//  1. A failed piece leaves a record of each block's SHA-256 and its sender (bounded).
//  2. A connected peer that has the piece and speaks the hash messages is asked for its leaf
//     hashes (BEP 52 hash request: base layer 0, the piece's leaves, no proof layers). An answer
//     that does not hash to the piece's hash proves its sender lied: it is banned. Otherwise the
//     senders of the blocks whose hash differs from their proven leaf are banned at once.
//  3. When nobody can answer (no peer speaks the messages, rejects, timeouts), libtorrent's smart
//     ban: once the piece verifies, its leaves are known and the same comparison convicts.
//  4. A piece sent whole by one peer that fails convicts that peer. The senders of a failed piece
//     are on parole meanwhile (download.go): each downloads whole pieces alone, so a second bad
//     piece of theirs is proof by itself.
//
// A peer never proven is never banned.

// Blame bounds: a remote peer makes pieces fail and asks us for hashes, so what it can make us
// hold and compute is bounded.
const (
	// maxSuspectPieces bounds the failed pieces whose blame is pending; past it a failed piece
	// leaves no record (its senders stay on parole).
	maxSuspectPieces = 64
	// recordsPerLeaf bounds the block records of one failed piece (per leaf, counting at most
	// wire.MaxHashes leaves): a piece may fail several times before it is proven; the oldest
	// records leave first.
	recordsPerLeaf = 4
	// maxAskedPerSuspect bounds the peers asked for one piece's leaves; then only the smart ban
	// remains.
	maxAskedPerSuspect = 32
	// maxHashServes is how many of one peer's hash requests are served at once, and
	// maxHashServesTotal of all peers'; more are rejected (hash reject). Each reads and hashes
	// at most two pieces, off the connection's reader.
	maxHashServes      = 2
	maxHashServesTotal = 8
)

// blockRecord is one block of a failed piece: its index in the piece, its SHA-256, who sent it.
type blockRecord struct {
	block int
	hash  [32]byte
	from  peerIdentity
	key   ConnKey
}

// suspect is a failed piece whose bad blocks are not proven yet.
type suspect struct {
	records []blockRecord
	asked   map[ConnKey]bool // peers asked for its leaf hashes already
	pending ConnKey          // the peer whose answer we wait for; 0: none
	sentAt  time.Time
}

// blameState is the session's pending blame and its counters. Owner: the session's mutex
// guards suspects; the counters are atomic.
type blameState struct {
	suspects               map[int]*suspect
	serving                int          // hash requests being answered, all peers
	count                  atomic.Int32 // len(suspects), read without the lock
	sent, served, rejected atomic.Int64
}

// connHashes is one connection's side of the hash messages. Owner: the session's mutex.
type connHashes struct {
	speaks  bool // its handshake set the bit of the hash messages (wire.Handshake.Hashes)
	serving int  // its hash requests being answered
}

// hashesFrom records whether the peer's handshake says it speaks the hash messages.
func (c *conn) hashesFrom(h wire.Handshake) *conn {
	c.hx.speaks = h.Hashes()
	return c
}

// identity names c for the ban list.
func (c *conn) identity() peerIdentity { return peerIdentity{Addr: c.addr, ID: c.id} }

// blockRecords pairs each received block of a piece with its leaf hash (leaves, 32 bytes each,
// computed from the piece's data) and its sender (from: the connection per block, 0 for none).
func blockRecords(leaves []byte, from []ConnKey, who map[ConnKey]peerIdentity) []blockRecord {
	var records []blockRecord
	for i, key := range from {
		if key == 0 || (i+1)*32 > len(leaves) {
			continue
		}
		var h [32]byte
		copy(h[:], leaves[i*32:])
		records = append(records, blockRecord{block: i, hash: h, from: who[key], key: key})
	}
	return records
}

// judge compares records with proven leaves: guilty are the senders of a block whose hash
// differs from its leaf (each once), cleared the connections whose every block matched.
func judge(records []blockRecord, leaves []byte) (guilty []blockRecord, cleared []ConnKey) {
	bad := make(map[ConnKey]bool)
	for _, r := range records {
		leaf := leaves[r.block*32 : r.block*32+32]
		if bytes.Equal(r.hash[:], leaf) {
			if _, seen := bad[r.key]; !seen {
				bad[r.key] = false
			}
			continue
		}
		if !bad[r.key] {
			guilty = append(guilty, r)
		}
		bad[r.key] = true
	}
	for key, isBad := range bad {
		if !isBad {
			cleared = append(cleared, key)
		}
	}
	return guilty, cleared
}

// pieceRange is the hash request for piece's leaves; false when they cannot be asked: a piece
// of one leaf (its sender is proven by the piece hash itself) or of more leaves than one
// request may hold.
func (s *Session) pieceRange(piece int) (wire.HashRange, bool) {
	n := s.meta.PieceLeaves()
	first := s.meta.LeafIndex(piece)
	if n < 2 || n > wire.MaxHashes || first+n > math.MaxUint32 {
		return wire.HashRange{}, false
	}
	return wire.HashRange{PiecesRoot: s.meta.Info.PiecesRoot, Index: uint32(first), Length: uint32(n)}, true
}

// pieceOfRange is the piece whose hash request r is, if any.
func (s *Session) pieceOfRange(r wire.HashRange) (int, bool) {
	n := s.meta.PieceLeaves()
	piece := int(r.Index) / n
	want, ok := s.pieceRange(piece)
	return piece, ok && piece < s.meta.NumPieces() && r == want
}

// pieceFailedLocked handles a piece that failed verification: leaves are the leaf hashes of
// the data received. A piece sent by one peer convicts it; otherwise its senders go on parole,
// their blocks are recorded and a peer is asked for the proven leaves.
func (s *Session) pieceFailedLocked(piece int, pb *pieceBuffer, leaves []byte) {
	s.hashFailures.Add(1)
	s.picker.PieceFailed(piece)
	s.log.Warn("Piece failed verification", "piece", piece, "senders", len(pb.senders))
	if len(pb.senders) == 1 {
		for _, p := range pb.senders {
			s.banLocked(p, banBadBlock, piece, "it alone sent a piece that failed")
		}
		return
	}
	for key := range pb.senders {
		if c := s.conns[key]; c != nil && !c.paroled {
			c.paroled = true
			s.paroled++
		}
	}
	if !s.suspectLocked(piece, blockRecords(leaves, pb.from, pb.senders)) {
		return
	}
	s.askHashesLocked(piece, time.Now())
}

// suspectLocked records the blocks of a failed piece; false when the table is full.
func (s *Session) suspectLocked(piece int, records []blockRecord) bool {
	if s.blame.suspects == nil {
		s.blame.suspects = make(map[int]*suspect)
	}
	sus := s.blame.suspects[piece]
	if sus == nil {
		if len(s.blame.suspects) >= maxSuspectPieces {
			s.log.Debug("Too many failed pieces to record: blame waits for parole", "piece", piece)
			return false
		}
		sus = &suspect{asked: make(map[ConnKey]bool)}
		s.blame.suspects[piece] = sus
		s.blame.count.Add(1)
	}
	sus.records = append(sus.records, records...)
	if limit := recordsPerLeaf * min(s.meta.PieceLeaves(), wire.MaxHashes); len(sus.records) > limit {
		sus.records = append(sus.records[:0], sus.records[len(sus.records)-limit:]...)
	}
	return true
}

// suspected reports whether piece failed before and awaits its proof (without the lock while
// no piece does: the verifiers ask it of every piece).
func (s *Session) suspected(piece int) bool {
	if s.blame.count.Load() == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.blame.suspects[piece] != nil
}

// askHashesLocked sends a hash request for a suspect piece's leaves to a peer not asked yet
// that has the piece and speaks the messages, unless one is pending or none can be asked (the
// smart ban at the piece's verification remains).
func (s *Session) askHashesLocked(piece int, now time.Time) {
	sus := s.blame.suspects[piece]
	if sus == nil || sus.pending != 0 || len(sus.asked) >= maxAskedPerSuspect {
		return
	}
	r, ok := s.pieceRange(piece)
	if !ok {
		return
	}
	c := s.hashPeerLocked(piece, sus)
	if c == nil {
		return
	}
	sus.asked[c.key] = true
	sus.pending, sus.sentAt = c.key, now
	c.send(r.Message(wire.HashRequest))
	s.blame.sent.Add(1)
}

// hashPeerLocked picks whom to ask for a suspect piece's leaves: a peer that did not send its
// blocks if there is one (any answer is checked, but a bystander is the likelier honest one).
func (s *Session) hashPeerLocked(piece int, sus *suspect) *conn {
	var sender *conn
	for key, c := range s.conns {
		if !c.hx.speaks || !c.has.Has(piece) || sus.asked[key] {
			continue
		}
		if !sentTo(sus, key) {
			return c
		}
		sender = c
	}
	return sender
}

func sentTo(sus *suspect, key ConnKey) bool {
	for _, r := range sus.records {
		if r.key == key {
			return true
		}
	}
	return false
}

// onHashes checks a peer's answer to our hash request: leaves that do not hash to the piece's
// hash convict the peer; proven leaves convict the senders of the blocks that differ. An answer
// we did not ask for (or no longer wait for) is ignored.
func (s *Session) onHashes(c *conn, m wire.Message) error {
	r, hashes, err := wire.ParseHashes(m.Payload)
	if err != nil {
		return protocolError("hashes: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	piece, ok := s.pieceOfRange(r)
	sus := s.blame.suspects[piece]
	if !ok || sus == nil || sus.pending != c.key {
		return nil
	}
	sus.pending = 0
	leaves := hashes[:r.Length*32]
	if !s.meta.VerifyLeaves(piece, leaves) {
		s.banLocked(c.identity(), banBadHashes, piece, "its leaf hashes do not hash to the piece's hash")
		s.askHashesLocked(piece, time.Now())
		return nil
	}
	s.convictLocked(piece, sus, leaves)
	return nil
}

// onHashReject notes that the peer will not answer our hash request; the next peer is asked.
func (s *Session) onHashReject(c *conn, m wire.Message) error {
	r, err := wire.ParseHashRange(m.Payload)
	if err != nil {
		return protocolError("hash reject: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	piece, ok := s.pieceOfRange(r)
	if sus := s.blame.suspects[piece]; ok && sus != nil && sus.pending == c.key {
		sus.pending = 0
		s.askHashesLocked(piece, time.Now())
	}
	return nil
}

// checkHashTimeoutsLocked gives up on hash requests unanswered for RequestTimeout (or whose
// peer left) and asks another peer; suspects with no request pending try again, since peers
// come and go.
func (s *Session) checkHashTimeoutsLocked(now time.Time) {
	for piece, sus := range s.blame.suspects {
		if sus.pending != 0 && (s.conns[sus.pending] == nil || now.Sub(sus.sentAt) >= s.cfg.RequestTimeout) {
			sus.pending = 0
		}
		s.askHashesLocked(piece, now)
	}
}

// provenLocked applies the leaves of a piece that verified (the smart ban) to its records.
func (s *Session) provenLocked(piece int, leaves []byte) {
	if sus := s.blame.suspects[piece]; sus != nil {
		s.convictLocked(piece, sus, leaves)
	}
}

// convictLocked bans the senders of the blocks that differ from the proven leaves, lifts the
// parole of those whose every block matched (and that sent no other suspect piece), and
// forgets the piece's records.
func (s *Session) convictLocked(piece int, sus *suspect, leaves []byte) {
	delete(s.blame.suspects, piece)
	s.blame.count.Add(-1)
	guilty, cleared := judge(sus.records, leaves)
	for _, r := range guilty {
		s.banLocked(r.from, banBadBlock, piece, "its block differs from the proven leaf hash")
	}
	for _, key := range cleared {
		c := s.conns[key]
		if c == nil || !c.paroled || s.suspectSenderLocked(key) {
			continue
		}
		c.paroled = false
		s.paroled--
		for _, pb := range s.pieces {
			if pb.owner == key {
				pb.owner = 0
			}
		}
	}
}

// suspectSenderLocked reports whether key sent blocks of a piece still awaiting proof.
func (s *Session) suspectSenderLocked(key ConnKey) bool {
	for _, sus := range s.blame.suspects {
		if sentTo(sus, key) {
			return true
		}
	}
	return false
}

// banLocked bans a proven peer and drops its connections: those from its IP, and the one with
// its id when the id was banned too.
func (s *Session) banLocked(p peerIdentity, reason banReason, piece int, why string) {
	if !s.bans.Ban(p, reason) {
		return
	}
	s.log.Warn("Peer banned", "peer", p.Addr.String(), "peerID", string(sanitizeID(p.ID)),
		"reason", reason.String(), "piece", piece, "proof", why)
	ip := p.Addr.Addr().Unmap()
	dropped := false
	for _, c := range s.conns {
		if c.addr.Addr().Unmap() == ip || s.bans.Banned(netip.Addr{}, c.id) {
			c.close(errBanned)
			s.removeLocked(c)
			dropped = true
		}
	}
	s.dialer.banned(p.Addr)
	if dropped {
		s.fillAllLocked() // their requests went back to the picker
	}
}

// onHashRequest answers a peer's hash request in the background (it reads pieces from disk),
// or rejects it: beyond maxHashServes at once, or for leaves we cannot give.
func (s *Session) onHashRequest(c *conn, m wire.Message) error {
	r, err := wire.ParseHashRange(m.Payload)
	if err != nil {
		return protocolError("hash request: %v", err)
	}
	s.mu.Lock()
	ok := c.hx.serving < maxHashServes && s.blame.serving < maxHashServesTotal && s.canServeLocked(r)
	if ok {
		c.hx.serving++
		s.blame.serving++
	}
	s.mu.Unlock()
	if !ok {
		s.blame.rejected.Add(1)
		c.send(r.Message(wire.HashReject))
		return nil
	}
	s.goRun(func() { s.serveHashes(c, r) })
	return nil
}

// canServeLocked reports whether we answer r: leaf hashes of our file (no proof layers), at most
// one piece's worth (two leaves for pieces of one leaf), of pieces we have; leaves past the end
// of the file are zero.
func (s *Session) canServeLocked(r wire.HashRange) bool {
	n := s.meta.PieceLeaves()
	if r.PiecesRoot != s.meta.Info.PiecesRoot || r.BaseLayer != 0 || r.ProofLayers != 0 || int(r.Length) > max(n, 2) {
		return false
	}
	first, last := int(r.Index)/n, (int(r.Index)+int(r.Length)-1)/n
	if first >= s.meta.NumPieces() {
		return false
	}
	for p := first; p <= last && p < s.meta.NumPieces(); p++ {
		if !s.picker.Have(p) {
			return false
		}
	}
	return true
}

// serveHashes reads the pieces r covers, hashes their blocks and sends the leaves (a hash
// reject if the disk fails).
func (s *Session) serveHashes(c *conn, r wire.HashRange) {
	defer func() {
		s.mu.Lock()
		c.hx.serving--
		s.blame.serving--
		s.mu.Unlock()
	}()
	out, err := s.leafHashesOf(r)
	if err != nil {
		s.log.Warn("Cannot read a piece to answer a hash request", "err", err)
		s.blame.rejected.Add(1)
		c.send(r.Message(wire.HashReject))
		return
	}
	s.blame.served.Add(1)
	c.send(r.HashesMessage(out))
}

// leafHashesOf computes the leaves of r from our verified pieces (zero past the file's end).
func (s *Session) leafHashesOf(r wire.HashRange) ([]byte, error) {
	n := s.meta.PieceLeaves()
	out := make([]byte, 0, int(r.Length)*32)
	var leaves []byte
	cached := -1
	for j := int(r.Index); j < int(r.Index)+int(r.Length); j++ {
		p := j / n
		if p >= s.meta.NumPieces() {
			out = append(out, make([]byte, 32)...)
			continue
		}
		if p != cached {
			data := make([]byte, s.meta.PieceLen(p))
			if err := s.store.ReadAt(data, s.meta.PieceOffset(p)); err != nil {
				return nil, err
			}
			leaves, cached = s.meta.LeafHashes(data), p
		}
		out = append(out, leaves[(j-p*n)*32:(j-p*n+1)*32]...)
	}
	return out, nil
}
