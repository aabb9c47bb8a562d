package tracker

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/wire"
)

// Errors of the registry; the announce handler turns them into failure reasons.
var (
	errTooManySwarms = errors.New("tracker is full: too many swarms")
	errSwarmFull     = errors.New("swarm is full: too many peers")
	// errUnregistered refuses an info-hash without a stored torrent (Config.RegisteredOnly).
	errUnregistered = errors.New("unregistered torrent")
	// errPeerElsewhere refuses an announce whose peer id is live in the swarm from another IP.
	errPeerElsewhere = errors.New("peer id in use from another IP")
)

// registry is the tracker's phone book: swarms by v1 info-hash, each with its peers by peer id.
// A peer is known by its peer id and the IP it announces from: an announce of a live peer id
// from another IP is refused and changes nothing. Its mutex mu owns every swarm, peer and stored
// torrent reachable from it, and rng.
type registry struct {
	mu     sync.Mutex
	swarms map[[20]byte]*swarm
	byName map[string]*swarm // swarms that hold a stored torrent, by the torrent's name
	// aliases maps the truncated v2 info-hash of each stored hybrid torrent to its v1
	// info-hash: v2-aware clients (libtorrent) announce a hybrid torrent under both, and both
	// must reach one swarm.
	aliases map[[20]byte][20]byte
	peers   int   // live peers of all swarms
	seeders int   // those with nothing left
	stored  int64 // bytes of all stored torrents
	rng     *rand.Rand

	maxSwarms, maxPeersPerSwarm int
	maxStored                   int64
	peerTTL                     time.Duration
	registeredOnly              bool
}

// swarm is the set of peers sharing one torrent.
type swarm struct {
	infoHash  [20]byte
	createdAt time.Time
	peers     map[[20]byte]*peer
	// order holds the same peers densely so that sampling picks by index; peer.slot is the
	// peer's index in it. Sampling reorders it freely.
	order     []*peer
	seeders   int
	completed int // "completed" events ever received
	// firstLeecherAt is the first announce of a peer with bytes left; lastCompletedAt the latest
	// "completed" event. Both are zero until then.
	firstLeecherAt, lastCompletedAt time.Time
	torrent                         *storedTorrent // nil when no .torrent was stored for this swarm
	// avail counts, per piece, the leechers' bitfields that hold it (pieces.go); nil until the
	// first bitfield. availPeers counts the peers with a bitfield.
	avail      []int32
	availPeers int
}

// peer is one peer as its announces describe it.
type peer struct {
	id                       [20]byte
	name                     string
	addr                     netip.AddrPort
	uploaded, downloaded     int64
	left                     int64
	uploadRate, downloadRate float64 // bytes per second between the last two announces
	startedAt, lastSeen      time.Time
	completedAt              time.Time       // zero until the peer sends "completed"
	slot                     int             // index in swarm.order
	bitfield                 wire.Bitfield   // its last bitfield while a leecher; nil when none
	health                   *api.PeerHealth // its last health report; nil when none
}

func newRegistry(cfg Config) *registry {
	return &registry{
		swarms:           make(map[[20]byte]*swarm),
		byName:           make(map[string]*swarm),
		aliases:          make(map[[20]byte][20]byte),
		rng:              newRand(cfg.Seed),
		maxSwarms:        cfg.MaxSwarms,
		maxPeersPerSwarm: cfg.MaxPeersPerSwarm,
		maxStored:        cfg.MaxStoredBytes,
		peerTTL:          cfg.PeerTTL,
		registeredOnly:   cfg.RegisteredOnly,
	}
}

// newRand is the registry's random source: seeded by seed, or at random when seed is 0.
func newRand(seed uint64) *rand.Rand {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// announceParams is one parsed announce request.
type announceParams struct {
	infoHash, peerID           [20]byte
	addr                       netip.AddrPort // the connection's IP with the announced port
	uploaded, downloaded, left int64
	event                      string // "", "started", "completed" or "stopped"
	numWant                    int
	name                       string
	compact, noPeerID          bool
	bitfield                   []byte          // the "bitfield" extension, unchecked; nil when absent
	health                     *api.PeerHealth // the health extension; nil when absent
}

// announceResult is the registry's answer to one announce.
type announceResult struct {
	complete, incomplete int
	peers                []peerEntry // the sample; appended to the caller's slice
}

// peerEntry is one sampled peer as the response lists it.
type peerEntry struct {
	id   [20]byte
	addr netip.AddrPort
}

// announce records a at time now and samples other live peers into dst.
func (r *registry) announce(a *announceParams, now time.Time, dst []peerEntry) (announceResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.lookup(a.infoHash)
	if r.registeredOnly && (s == nil || s.torrent == nil) {
		return announceResult{}, errUnregistered
	}
	if s != nil {
		if err := r.claim(s, a, now); err != nil {
			return announceResult{}, err
		}
	}
	if a.event == "stopped" {
		if s != nil {
			if p := s.peers[a.peerID]; p != nil {
				r.removePeer(s, p)
			}
			return s.result(), nil
		}
		return announceResult{}, nil
	}
	if s == nil {
		var err error
		if s, err = r.addSwarm(a.infoHash, now); err != nil {
			return announceResult{}, err
		}
	}
	bf, err := s.checkBitfield(a.bitfield)
	if err != nil {
		return announceResult{}, err
	}
	p, err := r.upsertPeer(s, a, now)
	if err != nil {
		return announceResult{}, err
	}
	s.recordPieces(p, bf, a.health)
	res := s.result()
	res.peers = r.sample(s, p, a.numWant, now, dst)
	return res, nil
}

// claim checks that a's peer id is not live in s from another IP. An entry of that id from
// another IP that is past its TTL (a pod restarted at a new IP with the same id, not reaped yet)
// is dropped, so that the announce takes its place.
func (r *registry) claim(s *swarm, a *announceParams, now time.Time) error {
	p := s.peers[a.peerID]
	if p == nil || p.addr.Addr() == a.addr.Addr() {
		return nil
	}
	if r.alive(p, now) {
		return errPeerElsewhere
	}
	r.removePeer(s, p)
	return nil
}

// lookup returns the swarm of h, a v1 info-hash or the truncated v2 info-hash of a stored
// hybrid torrent; nil when there is none.
func (r *registry) lookup(h [20]byte) *swarm {
	if v1, ok := r.aliases[h]; ok {
		h = v1
	}
	return r.swarms[h]
}

// result is the swarm's counts; the caller adds the sample.
func (s *swarm) result() announceResult {
	return announceResult{complete: s.seeders, incomplete: len(s.order) - s.seeders}
}

// addSwarm creates the swarm of infoHash, within maxSwarms.
func (r *registry) addSwarm(infoHash [20]byte, now time.Time) (*swarm, error) {
	if len(r.swarms) >= r.maxSwarms {
		return nil, errTooManySwarms
	}
	s := &swarm{infoHash: infoHash, createdAt: now, peers: make(map[[20]byte]*peer)}
	r.swarms[infoHash] = s
	return s, nil
}

// upsertPeer records an announce of a peer that did not stop: a new peer joins (within
// maxPeersPerSwarm), a known one gets its totals, rates and seeder state updated.
func (r *registry) upsertPeer(s *swarm, a *announceParams, now time.Time) (*peer, error) {
	p := s.peers[a.peerID]
	if p == nil {
		if len(s.order) >= r.maxPeersPerSwarm {
			return nil, errSwarmFull
		}
		p = &peer{id: a.peerID, startedAt: now, lastSeen: now, left: a.left, slot: len(s.order)}
		if a.left > 0 && s.firstLeecherAt.IsZero() {
			s.firstLeecherAt = now
		}
		s.peers[a.peerID] = p
		s.order = append(s.order, p)
		r.peers++
		if a.left == 0 {
			s.seeders++
			r.seeders++
		}
	} else {
		p.updateRates(a, now)
		r.setLeft(s, p, a.left)
	}
	p.addr, p.name = a.addr, a.name
	p.uploaded, p.downloaded, p.left, p.lastSeen = a.uploaded, a.downloaded, a.left, now
	if a.event == "completed" && p.completedAt.IsZero() {
		p.completedAt = now
		s.completed++
		s.lastCompletedAt = now
	}
	return p, nil
}

// setLeft moves p between leechers and seeders when its left count crosses zero: the
// leecher-to-seeder transition (or back, when a peer finds its copy damaged).
func (r *registry) setLeft(s *swarm, p *peer, left int64) {
	wasSeeder, isSeeder := p.left == 0, left == 0
	switch {
	case !wasSeeder && isSeeder:
		s.seeders++
		r.seeders++
	case wasSeeder && !isSeeder:
		s.seeders--
		r.seeders--
	}
	p.left = left
}

// updateRates sets the peer's rates from the byte totals of its previous and this announce.
// Totals that went down (a restarted client) give a rate of 0.
func (p *peer) updateRates(a *announceParams, now time.Time) {
	dt := now.Sub(p.lastSeen).Seconds()
	if dt <= 0 {
		return
	}
	p.uploadRate = max(0, float64(a.uploaded-p.uploaded)/dt)
	p.downloadRate = max(0, float64(a.downloaded-p.downloaded)/dt)
}

// removePeer drops p from s and from the totals.
func (r *registry) removePeer(s *swarm, p *peer) {
	last := len(s.order) - 1
	moved := s.order[last]
	s.order[p.slot], moved.slot = moved, p.slot
	s.order[last] = nil
	s.order = s.order[:last]
	delete(s.peers, p.id)
	s.setBitfield(p, nil)
	r.peers--
	if p.left == 0 {
		s.seeders--
		r.seeders--
	}
}

// alive reports whether p announced within the peer TTL before now.
func (r *registry) alive(p *peer, now time.Time) bool {
	return now.Sub(p.lastSeen) < r.peerTTL
}

// counts is the number of swarms, live peers and seeders, for metrics.
func (r *registry) counts() (swarms, peers, seeders int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.swarms), r.peers, r.seeders
}
