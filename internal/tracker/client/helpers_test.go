package client_test

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/backoff"
	"github.com/minibit-io/minibit/internal/metainfo"
)

// fastRetry keeps announcer tests quick: three attempts a few milliseconds apart.
var fastRetry = backoff.Policy{Initial: time.Millisecond, Max: 5 * time.Millisecond, Multiplier: 2, Attempts: 3}

// id20 is a 20-byte id made of one repeated byte.
func id20(b byte) [20]byte {
	var id [20]byte
	for i := range id {
		id[i] = b
	}
	return id
}

// makeTorrent writes a file of size random bytes in a temporary directory and returns its
// parsed and encoded .torrent.
func makeTorrent(t *testing.T, size int, seed uint64, announce string) (*metainfo.MetaInfo, []byte) {
	t.Helper()
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	path := filepath.Join(t.TempDir(), "payload.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: 64 << 10, Announce: announce})
	if err != nil {
		t.Fatal(err)
	}
	encoded, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return m, encoded
}

// assertPeers fails unless got holds exactly the addresses of want, in any order.
func assertPeers(t *testing.T, got []netip.AddrPort, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("peers %v, want %v", got, want)
	}
	seen := map[netip.AddrPort]bool{}
	for _, p := range got {
		seen[p] = true
	}
	for _, w := range want {
		if !seen[netip.MustParseAddrPort(w)] {
			t.Fatalf("peers %v, want %v", got, want)
		}
	}
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
