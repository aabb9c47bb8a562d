package client_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/minibit-io/minibit/internal/backoff"
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

// assertPeers fails unless got holds exactly the addresses of want, in any order.
func assertPeers(t *testing.T, got []netip.AddrPort, want ...string) {
	t.Helper()
	addrs := make([]string, len(got))
	for i, p := range got {
		addrs[i] = p.String()
	}
	slices.Sort(addrs)
	if diff := cmp.Diff(slices.Sorted(slices.Values(want)), addrs); diff != "" {
		t.Fatalf("peers (-want +got):\n%s", diff)
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
