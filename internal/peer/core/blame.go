package core

import (
	"bytes"
	"log/slog"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
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
//     are on parole meanwhile (parole.go): each downloads whole pieces alone, so a second bad
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
	from  Identity
	key   ConnKey
}

// suspect is a failed piece whose bad blocks are not proven yet.
type suspect struct {
	records []blockRecord
	asked   map[ConnKey]bool // peers asked for its leaf hashes already
	pending ConnKey          // the peer whose answer we wait for; 0: none
	sentAt  time.Time
}

// blameState is the pending blame: failed pieces awaiting the proof of their bad blocks.
type blameState struct {
	suspects map[int]*suspect
	serving  int // hash requests being answered, all peers
}

// blockRecords pairs each received block of a failed piece with its leaf hash (leaves, 32 bytes
// each, computed from the piece's data) and its sender.
func blockRecords(sp *startedPiece, leaves []byte) []blockRecord {
	var records []blockRecord
	for i, b := range sp.blocks {
		if !b.received || (i+1)*32 > len(leaves) {
			continue
		}
		var h [32]byte
		copy(h[:], leaves[i*32:])
		records = append(records, blockRecord{block: i, hash: h, from: b.senderID, key: b.sender})
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
func (c *Core) pieceRange(piece int) (wire.HashRange, bool) { return PieceHashRange(c.meta, piece) }

// PieceHashRange is the hash request for a piece's leaves in meta's torrent (see pieceRange).
func PieceHashRange(meta *metainfo.MetaInfo, piece int) (wire.HashRange, bool) {
	n := meta.PieceLeaves(piece)
	root, _ := meta.PieceRoot(piece)
	first := meta.LeafIndex(piece)
	if n < 2 || n > wire.MaxHashes || first+n > math.MaxUint32 {
		return wire.HashRange{}, false
	}
	return wire.HashRange{PiecesRoot: root, Index: uint32(first), Length: uint32(n)}, true
}

// pieceOfRange is the piece whose hash request r is, if any: in the first file with r's root.
func (c *Core) pieceOfRange(r wire.HashRange) (int, bool) {
	piece, _, ok := c.meta.LeafPiece(r.PiecesRoot, int(r.Index))
	if !ok {
		return 0, false
	}
	want, ok := c.pieceRange(piece)
	return piece, ok && r == want
}

// pendingPiece is the suspect piece whose hash request r is and waits for key's answer.
// Identical files share a root, so a range may be another file's piece than pieceOfRange's:
// the suspects (at most maxSuspectPieces) are searched, the lowest piece first.
func (c *Core) pendingPiece(r wire.HashRange, key ConnKey) (int, bool) {
	if piece, ok := c.pieceOfRange(r); ok {
		if sus := c.blame.suspects[piece]; sus != nil && sus.pending == key {
			return piece, true
		}
	}
	best := -1
	for piece, sus := range c.blame.suspects {
		if sus.pending != key || (best >= 0 && piece > best) {
			continue
		}
		if want, ok := c.pieceRange(piece); ok && want == r {
			best = piece
		}
	}
	return best, best >= 0
}

// suspect records the blocks of a failed piece; false when the table is full.
func (c *Core) suspect(piece int, records []blockRecord) bool {
	if c.blame.suspects == nil {
		c.blame.suspects = make(map[int]*suspect)
	}
	sus := c.blame.suspects[piece]
	if sus == nil {
		if len(c.blame.suspects) >= maxSuspectPieces {
			c.logf(slog.LevelDebug, "Too many failed pieces to record: blame waits for parole", "piece", piece)
			return false
		}
		sus = &suspect{asked: make(map[ConnKey]bool)}
		c.blame.suspects[piece] = sus
	}
	sus.records = append(sus.records, records...)
	if limit := recordsPerLeaf * min(c.meta.PieceLeaves(piece), wire.MaxHashes); len(sus.records) > limit {
		sus.records = append(sus.records[:0], sus.records[len(sus.records)-limit:]...)
	}
	return true
}

// askHashes sends a hash request for a suspect piece's leaves to a peer not asked yet that has
// the piece and speaks the messages, unless one is pending or none can be asked (the smart ban
// at the piece's verification remains).
func (c *Core) askHashes(piece int, now time.Time) {
	sus := c.blame.suspects[piece]
	if sus == nil || sus.pending != 0 || len(sus.asked) >= maxAskedPerSuspect {
		return
	}
	r, ok := c.pieceRange(piece)
	if !ok {
		return
	}
	p := c.hashPeer(piece, sus)
	if p == nil {
		return
	}
	sus.asked[p.key] = true
	sus.pending, sus.sentAt = p.key, now
	c.send(p.key, r.Message(wire.HashRequest))
	c.counters.HashRequestsSent++
}

// hashPeer picks whom to ask for a suspect piece's leaves: a peer that did not send its blocks
// if there is one (any answer is checked, but a bystander is the likelier honest one).
func (c *Core) hashPeer(piece int, sus *suspect) *peerConn {
	var sender *peerConn
	for _, p := range c.order {
		key := p.key
		if !p.Hashes || !p.has.Has(piece) || sus.asked[key] {
			continue
		}
		if !sentTo(sus, key) {
			return p
		}
		sender = p
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
func (c *Core) onHashes(now time.Time, p *peerConn, m wire.Message) error {
	r, hashes, err := wire.ParseHashes(m.Payload)
	if err != nil {
		return protocolError("hashes: %v", err)
	}
	piece, ok := c.pendingPiece(r, p.key)
	if !ok {
		return nil
	}
	sus := c.blame.suspects[piece]
	sus.pending = 0
	leaves := hashes[:r.Length*32]
	if !c.meta.VerifyLeaves(piece, leaves) {
		c.ban(now, p.identity(), BanBadHashes, piece, "its leaf hashes do not hash to the piece's hash")
		c.askHashes(piece, now)
		return nil
	}
	c.convict(now, piece, sus, leaves)
	return nil
}

// onHashReject notes that the peer will not answer our hash request; the next peer is asked.
func (c *Core) onHashReject(now time.Time, p *peerConn, m wire.Message) error {
	r, err := wire.ParseHashRange(m.Payload)
	if err != nil {
		return protocolError("hash reject: %v", err)
	}
	if piece, ok := c.pendingPiece(r, p.key); ok {
		c.blame.suspects[piece].pending = 0
		c.askHashes(piece, now)
	}
	return nil
}

// checkHashTimeouts gives up on hash requests unanswered for RequestTimeout (or whose peer
// left) and asks another peer; suspects with no request pending try again, since peers come
// and go.
func (c *Core) checkHashTimeouts(now time.Time) {
	for _, piece := range slices.Sorted(maps.Keys(c.blame.suspects)) {
		sus := c.blame.suspects[piece]
		if sus.pending != 0 && (c.conns[sus.pending] == nil || now.Sub(sus.sentAt) >= c.cfg.RequestTimeout) {
			sus.pending = 0
		}
		c.askHashes(piece, now)
	}
}

// proven applies the leaves of a piece that verified (the smart ban) to its records.
func (c *Core) proven(piece int, leaves []byte) {
	if sus := c.blame.suspects[piece]; sus != nil {
		c.convict(time.Time{}, piece, sus, leaves)
	}
}

// convict bans the senders of the blocks that differ from the proven leaves, lifts the parole
// of those whose every block matched (and that sent no other suspect piece), and forgets the
// piece's records.
func (c *Core) convict(now time.Time, piece int, sus *suspect, leaves []byte) {
	delete(c.blame.suspects, piece)
	guilty, cleared := judge(sus.records, leaves)
	for _, r := range guilty {
		c.ban(now, r.from, BanBadBlock, piece, "its block differs from the proven leaf hash")
	}
	for _, key := range cleared {
		if p := c.conns[key]; p != nil && p.paroled && !c.suspectSender(key) {
			c.setParole(p, false)
		}
	}
}

// suspectSender reports whether key sent blocks of a piece still awaiting proof.
func (c *Core) suspectSender(key ConnKey) bool {
	for _, sus := range c.blame.suspects {
		if sentTo(sus, key) {
			return true
		}
	}
	return false
}

// onHashRequest asks the shell to answer a peer's hash request (it reads pieces from disk), or
// rejects it: beyond maxHashServes at once, or for leaves we cannot give.
func (c *Core) onHashRequest(p *peerConn, m wire.Message) error {
	r, err := wire.ParseHashRange(m.Payload)
	if err != nil {
		return protocolError("hash request: %v", err)
	}
	if c.servePieceLayer(p, r) { // a piece layer's chunk, from the metainfo (piecelayer.go)
		return nil
	}
	if p.hashServing >= maxHashServes || c.blame.serving >= maxHashServesTotal || !c.canServe(r) {
		c.counters.HashRequestsRejected++
		c.send(p.key, r.Message(wire.HashReject))
		return nil
	}
	p.hashServing++
	c.blame.serving++
	c.emit(Effect{Kind: ServeHashes, Conn: p.key, Range: r})
	return nil
}

// HashesServed records that the shell answered (ok) or rejected (a disk error) a hash request
// of key's peer.
func (c *Core) HashesServed(key ConnKey, ok bool) {
	c.blame.serving--
	if p := c.conns[key]; p != nil {
		p.hashServing--
	}
	if ok {
		c.counters.HashRequestsServed++
	} else {
		c.counters.HashRequestsRejected++
	}
}

// canServe reports whether we answer r: leaf hashes of one of our files (the first with r's
// root; no proof layers), at most one piece's worth (two leaves for pieces of one leaf), of
// pieces we have; leaves past the end of the file are zero.
func (c *Core) canServe(r wire.HashRange) bool {
	file, ok := c.meta.FileByRoot(r.PiecesRoot)
	if !ok || r.BaseLayer != 0 || r.ProofLayers != 0 {
		return false
	}
	first, count := c.meta.FilePieces(file)
	n := c.meta.PieceLeaves(first)
	if int(r.Length) > max(n, 2) {
		return false
	}
	lo, hi := int(r.Index)/n, (int(r.Index)+int(r.Length)-1)/n
	if lo >= count {
		return false
	}
	for k := lo; k <= hi && k < count; k++ {
		if !c.picker.Have(first + k) {
			return false
		}
	}
	return true
}
