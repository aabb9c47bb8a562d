package core

import (
	"net/netip"
	"sync"
)

// DefaultMaxBans bounds the ban list (each of its tables); the oldest entry leaves first.
const DefaultMaxBans = 1024

// BanReason is what proved a peer guilty.
type BanReason int

const (
	// BanBadBlock means a block it sent differs from the leaf hash proven against the piece's hash
	// (or it alone sent a piece that failed).
	BanBadBlock BanReason = iota
	// BanBadHashes means its answer to a hash request does not hash to the piece's hash.
	BanBadHashes
	// NumBanReasons counts the reasons.
	NumBanReasons
)

func (r BanReason) String() string {
	if r == BanBadHashes {
		return "bad hashes"
	}
	return "bad block"
}

// Identity names a remote peer for the ban list: the address we saw it at and its peer id.
type Identity struct {
	Addr netip.AddrPort
	ID   [20]byte
}

// BanList holds the peers proven to send bad data: their IP addresses and their peer ids,
// whatever the port (an incoming connection's port is ephemeral). Banned peers are refused at
// accept and at dial. Nobody is banned on suspicion: the blame logic (blame.go) calls Ban only
// with proof.
//
// A peer id is not authenticated: an attacker can present the id of an honest peer. So the ban
// of a proven peer's id is skipped when that id was also presented from another IP (the real
// owner's, most likely); the attacker's IP is banned all the same.
//
// Owner: mu guards every field; the list is used from connection goroutines and the dialer.
type BanList struct {
	mu       sync.Mutex
	ips      boundedSet[netip.Addr]
	ids      boundedSet[[20]byte]
	seen     boundedSet[idAt] // ids and the IPs they were presented from
	byReason [NumBanReasons]int64
}

// idAt is a peer id presented from an IP.
type idAt struct {
	ID [20]byte
	IP netip.Addr
}

// NewBanList returns an empty ban list; maxEntries below 1 takes DefaultMaxBans.
func NewBanList(maxEntries int) *BanList {
	if maxEntries < 1 {
		maxEntries = DefaultMaxBans
	}
	return &BanList{
		ips:  newBoundedSet[netip.Addr](maxEntries),
		ids:  newBoundedSet[[20]byte](maxEntries),
		seen: newBoundedSet[idAt](4 * maxEntries),
	}
}

// Banned reports whether the IP or the peer id is banned. A zero id or an invalid IP is never
// banned (an address is checked before the handshake tells the id).
func (b *BanList) Banned(ip netip.Addr, id [20]byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bannedLocked(ip.Unmap(), id)
}

func (b *BanList) bannedLocked(ip netip.Addr, id [20]byte) bool {
	return (id != [20]byte{} && b.ids.has(id)) || (ip.IsValid() && b.ips.has(ip))
}

// Presented records that a handshake from ip presented id and reports whether either is banned.
func (b *BanList) Presented(ip netip.Addr, id [20]byte) bool {
	ip = ip.Unmap()
	b.mu.Lock()
	defer b.mu.Unlock()
	if ip.IsValid() && id != [20]byte{} && !b.seen.has(idAt{id, ip}) {
		b.seen.add(idAt{id, ip}, 1)
	}
	return b.bannedLocked(ip, id)
}

// Ban bans a proven peer's IP, and its id unless another IP presented that id. It reports
// whether anything was newly banned; the reason is counted once per ban.
func (b *BanList) Ban(p Identity, reason BanReason) bool {
	ip := p.Addr.Addr().Unmap()
	b.mu.Lock()
	defer b.mu.Unlock()
	added := false
	if ip.IsValid() && !b.ips.has(ip) {
		b.ips.add(ip, 1)
		added = true
	}
	if p.ID != [20]byte{} && !b.ids.has(p.ID) && !b.contestedLocked(p.ID, ip) {
		b.ids.add(p.ID, 1)
		added = true
	}
	if added {
		b.byReason[reason]++
	}
	return added
}

// contestedLocked reports whether id was presented from an IP other than ip.
func (b *BanList) contestedLocked(id [20]byte, ip netip.Addr) bool {
	for k := range b.seen.count {
		if k.ID == id && k.IP != ip {
			return true
		}
	}
	return false
}

// Total is the number of bans ever made.
func (b *BanList) Total() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var total int64
	for _, n := range b.byReason {
		total += n
	}
	return total
}

// ByReason is the number of bans ever made for each reason.
func (b *BanList) ByReason() [NumBanReasons]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.byReason
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
