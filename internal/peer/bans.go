package peer

import (
	"net/netip"
	"sync"
)

// Ban policy defaults (the design note's "verify every block" made to bite: a peer proven to send
// bad data is dropped for good).
const (
	// DefaultStrikesToBan is how many failed pieces a peer may be implicated in before its ban.
	DefaultStrikesToBan = 3
	// DefaultMaxBans bounds the ban list (and the strike table); the oldest entry leaves first.
	DefaultMaxBans = 1024
)

// peerIdentity names a remote peer for the ban list: the address we saw it at and its peer id.
// An incoming connection's port is ephemeral, so the peer id is what catches it next time.
type peerIdentity struct {
	Addr netip.AddrPort
	ID   [20]byte
}

// banList records strikes against the senders of pieces that failed verification and bans a
// peer that was the sole sender of a bad piece or took part in strikesToBan failures. Banned
// peers are refused on accept and never dialled again. Every map is bounded by max entries.
//
// Owner: mu guards every field; the list is used from connection goroutines and the dialer.
type banList struct {
	mu           sync.Mutex
	strikesToBan int
	strikes      boundedSet[[20]byte]
	ids          boundedSet[[20]byte]
	addrs        boundedSet[netip.AddrPort]
	total        int64
}

// newBanList returns an empty ban list; values below 1 take the defaults.
func newBanList(strikesToBan, maxEntries int) *banList {
	if strikesToBan < 1 {
		strikesToBan = DefaultStrikesToBan
	}
	if maxEntries < 1 {
		maxEntries = DefaultMaxBans
	}
	return &banList{
		strikesToBan: strikesToBan,
		strikes:      newBoundedSet[[20]byte](maxEntries),
		ids:          newBoundedSet[[20]byte](maxEntries),
		addrs:        newBoundedSet[netip.AddrPort](maxEntries),
	}
}

// PieceFailed gives one strike to each sender of a piece that failed verification and returns
// the senders that are banned by it: all of them when there was a single sender (it alone sent
// the bad data), otherwise those that reached strikesToBan.
func (b *banList) PieceFailed(senders []peerIdentity) (banned []peerIdentity) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range senders {
		if b.ids.has(p.ID) {
			continue
		}
		n := b.strikes.add(p.ID, 1)
		if len(senders) == 1 || n >= b.strikesToBan {
			b.ids.add(p.ID, 1)
			b.addrs.add(p.Addr, 1)
			b.strikes.remove(p.ID)
			b.total++
			banned = append(banned, p)
		}
	}
	return banned
}

// Banned reports whether the peer id or the address is banned. A zero id or address is never
// banned (an address is checked before the handshake tells the id).
func (b *banList) Banned(addr netip.AddrPort, id [20]byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return (id != [20]byte{} && b.ids.has(id)) || (addr.IsValid() && b.addrs.has(addr))
}

// Total is the number of bans ever made.
func (b *banList) Total() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// boundedSet is a map from key to a count that holds at most max keys, evicting the oldest
// insertion first. It is not safe for concurrent use; its owner locks.
type boundedSet[K comparable] struct {
	max   int
	count map[K]int
	order []K // insertion order; may hold keys already removed
}

func newBoundedSet[K comparable](maxKeys int) boundedSet[K] {
	return boundedSet[K]{max: maxKeys, count: make(map[K]int)}
}

func (s *boundedSet[K]) has(k K) bool {
	_, ok := s.count[k]
	return ok
}

// add adds n to k's count (inserting k, and evicting the oldest keys if full) and returns it.
func (s *boundedSet[K]) add(k K, n int) int {
	if _, ok := s.count[k]; !ok {
		for len(s.count) >= s.max && len(s.order) > 0 {
			oldest := s.order[0]
			s.order = s.order[1:]
			delete(s.count, oldest)
		}
		s.order = append(s.order, k)
	}
	s.count[k] += n
	if len(s.order) > 2*s.max { // drop removed keys from the order slice now and then
		s.compact()
	}
	return s.count[k]
}

func (s *boundedSet[K]) remove(k K) { delete(s.count, k) }

func (s *boundedSet[K]) compact() {
	kept := s.order[:0]
	seen := make(map[K]bool, len(s.count))
	for _, k := range s.order {
		if _, ok := s.count[k]; ok && !seen[k] {
			seen[k] = true
			kept = append(kept, k)
		}
	}
	s.order = append([]K(nil), kept...)
}
