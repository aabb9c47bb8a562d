package tracker

import (
	"encoding/base64"
	"fmt"
	"math/bits"
	"net/url"
	"strings"

	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/wire"
)

// This file is the MiniBit announce extension that lets the dashboard see "how blocks are
// spread" (the note's concept 8): a leecher may send its BEP 3 bitfield, and how its connections
// stand. A standard tracker ignores these parameters, and standard clients omit them.
//
//	bitfield       base64url (RFC 4648 §5, padding optional) of the BEP 3 bitfield: ceil(pieces/8)
//	               bytes, high bit first, spare bits zero. Checked against the stored .torrent's
//	               piece count and ignored when no .torrent is stored. Omitted: the last one stands.
//	connected      connections past the handshake          } sent together; "connected" makes
//	choked_by      of those, how many choke the peer       } the others count
//	bans           peers banned for corrupt data (total)
//	hash_failures  pieces that failed verification (total)
//
// The tracker keeps one bitfield per live peer (dropped with the peer, and when the peer becomes
// a seeder) and, per swarm, the count of bitfields holding each piece, updated by difference.

// maxBitfieldBytes bounds a decoded bitfield: 8 Mi pieces, 2 TiB of 256 KiB pieces. In
// practice the request's header limit bounds it first.
const maxBitfieldBytes = 1 << 20

// maxConnections bounds the "connected" extension parameter.
const maxConnections = 1 << 20

// parsePieceExtension reads the optional bitfield and health parameters into a.
func parsePieceExtension(q url.Values, a *announceParams) error {
	if q.Has("bitfield") {
		b, err := decodeBitfieldParam(q.Get("bitfield"))
		if err != nil {
			return err
		}
		a.bitfield = b
	}
	if !q.Has("connected") {
		return nil
	}
	connected, err := intParam(q, "connected", true, 0, maxConnections)
	if err != nil {
		return err
	}
	chokedBy, err := intParam(q, "choked_by", false, 0, connected)
	if err != nil {
		return err
	}
	bans, err := intParam(q, "bans", false, 0, 1<<62)
	if err != nil {
		return err
	}
	hashFailures, err := intParam(q, "hash_failures", false, 0, 1<<62)
	if err != nil {
		return err
	}
	a.health = &api.PeerHealth{Connected: int(connected), ChokedBy: int(chokedBy), Bans: bans, HashFailures: hashFailures}
	return nil
}

// decodeBitfieldParam decodes a base64url bitfield, padded or not, of at most maxBitfieldBytes.
func decodeBitfieldParam(text string) ([]byte, error) {
	text = strings.TrimRight(text, "=")
	if len(text) > base64.RawURLEncoding.EncodedLen(maxBitfieldBytes) {
		return nil, fmt.Errorf("bitfield must be at most %d bytes", maxBitfieldBytes)
	}
	b, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("bitfield must be base64url: %w", err)
	}
	return b, nil
}

// checkBitfield validates a peer's bitfield against the swarm's stored torrent. It returns nil
// without error when the peer sent none or the piece count is unknown (no .torrent stored).
func (s *swarm) checkBitfield(b []byte) (wire.Bitfield, error) {
	if b == nil || s.torrent == nil {
		return nil, nil
	}
	bf, err := wire.ParseBitfield(b, s.torrent.pieces)
	if err != nil {
		return nil, fmt.Errorf("bitfield does not fit the swarm's %d pieces: %w", s.torrent.pieces, err)
	}
	return bf, nil
}

// recordPieces stores what the announce said of p's pieces and health. A seeder's bitfield is
// dropped (seeders hold every piece and are counted as such); a leecher keeps its last one until
// it sends another.
func (s *swarm) recordPieces(p *peer, bf wire.Bitfield, health *api.PeerHealth) {
	if health != nil {
		p.health = health
	}
	switch {
	case p.left == 0:
		s.setBitfield(p, nil)
	case bf != nil:
		s.setBitfield(p, bf)
	}
}

// setBitfield replaces p's bitfield with bf (nil: none) and moves s.avail by the difference, a
// byte at a time so that an unchanged bitfield costs one comparison per 8 pieces.
func (s *swarm) setBitfield(p *peer, bf wire.Bitfield) {
	old := p.bitfield
	if old == nil && bf == nil {
		return
	}
	if bf != nil && s.avail == nil {
		s.avail = make([]int32, s.torrent.pieces)
	}
	for i := range max(len(old), len(bf)) {
		o, n := byteAt(old, i), byteAt(bf, i)
		if o == n {
			continue
		}
		for gained := n &^ o; gained != 0; gained &= gained - 1 {
			s.avail[i*8+bits.LeadingZeros8(gained&-gained)]++
		}
		for lost := o &^ n; lost != 0; lost &= lost - 1 {
			s.avail[i*8+bits.LeadingZeros8(lost&-lost)]--
		}
	}
	switch {
	case old == nil:
		s.availPeers++
	case bf == nil:
		s.availPeers--
	}
	p.bitfield = bf
}

// byteAt is b[i], or 0 past its end.
func byteAt(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// availability is, for each piece, the leechers' bitfields holding it plus seeders; nil when the
// piece count is unknown.
func (s *swarm) availability(seeders int) []int {
	if s.torrent == nil {
		return nil
	}
	out := make([]int, s.torrent.pieces)
	for i := range out {
		out[i] = seeders
		if s.avail != nil {
			out[i] += int(s.avail[i])
		}
	}
	return out
}

// piecesHave counts p's pieces: all for a seeder, its bitfield's for a leecher; nil when unknown.
func (s *swarm) piecesHave(p *peer) *int {
	var n int
	switch {
	case s.torrent == nil:
		return nil
	case p.left == 0:
		n = s.torrent.pieces
	case p.bitfield != nil:
		n = p.bitfield.Count()
	default:
		return nil
	}
	return &n
}
