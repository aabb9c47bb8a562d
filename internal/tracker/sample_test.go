package tracker

import (
	"net/netip"
	"testing"
	"time"
)

// registryWithPeers returns a registry (seed fixed) with one swarm of n peers, ids 1..n, all
// announced at now.
func registryWithPeers(t testing.TB, n int, now time.Time) (*registry, [20]byte) {
	t.Helper()
	r := newRegistry(Config{Seed: 42}.withDefaults())
	hash := id20(0xAB)
	for i := 1; i <= n; i++ {
		a := announceParams{infoHash: hash, peerID: peerID(i), left: 1, numWant: 0, addr: peerAddr(i)}
		if _, err := r.announce(&a, now, nil); err != nil {
			t.Fatal(err)
		}
	}
	return r, hash
}

// peerAddr is the address peer i of registryWithPeers announces from.
func peerAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 6881)
}

// peerID is a distinct 20-byte id for each i.
func peerID(i int) [20]byte {
	var id [20]byte
	id[0], id[1] = byte(i>>8), byte(i)
	return id
}

func TestSampleExcludesAskerAndIsUniform(t *testing.T) {
	const peers, want, trials = 20, 5, 19000
	now := time.Unix(1000, 0)
	r, hash := registryWithPeers(t, peers, now)
	asker := peerID(7)
	counts := map[[20]byte]int{}
	for range trials {
		a := announceParams{infoHash: hash, peerID: asker, left: 1, numWant: want,
			addr: netip.MustParseAddrPort("10.0.0.7:6881")}
		res, err := r.announce(&a, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.peers) != want {
			t.Fatalf("sample of %d, want %d", len(res.peers), want)
		}
		seen := map[[20]byte]bool{}
		for _, p := range res.peers {
			if p.id == asker {
				t.Fatal("the sample holds the asker")
			}
			if seen[p.id] {
				t.Fatalf("the sample holds %x twice", p.id)
			}
			seen[p.id] = true
			counts[p.id]++
		}
	}
	if len(counts) != peers-1 {
		t.Fatalf("%d distinct peers sampled, want all %d others", len(counts), peers-1)
	}
	// Chi-square test of uniformity: 18 degrees of freedom, 42.3 is the 0.1 % critical value.
	expected := float64(trials*want) / float64(peers-1)
	var chi2 float64
	for _, c := range counts {
		d := float64(c) - expected
		chi2 += d * d / expected
	}
	if chi2 > 42.3 {
		t.Fatalf("chi-square %.1f over %d trials: the sample is not uniform (counts %v)", chi2, trials, counts)
	}
	t.Logf("chi-square %.1f (18 dof, critical 42.3 at 0.1%%)", chi2)
}

func TestSampleIsMinOfNumWantAndOthers(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, tc := range []struct{ peers, numWant, want int }{
		{peers: 1, numWant: 5, want: 0}, // alone in the swarm
		{peers: 3, numWant: 5, want: 2},
		{peers: 6, numWant: 5, want: 5},
		{peers: 50, numWant: 0, want: 0},
	} {
		r, hash := registryWithPeers(t, tc.peers, now)
		a := announceParams{infoHash: hash, peerID: peerID(1), left: 1, numWant: tc.numWant, addr: peerAddr(1)}
		res, err := r.announce(&a, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.peers) != tc.want {
			t.Errorf("%d peers, numwant %d: sample of %d, want %d", tc.peers, tc.numWant, len(res.peers), tc.want)
		}
	}
}

func TestSampleForANewcomerDrawsFromEveryone(t *testing.T) {
	now := time.Unix(1000, 0)
	r, hash := registryWithPeers(t, 4, now)
	r.mu.Lock()
	got := r.sample(r.swarms[hash], nil, 10, now, nil)
	r.mu.Unlock()
	if len(got) != 4 {
		t.Fatalf("sample without an asker: %d peers, want all 4", len(got))
	}
}

func TestSampleSkipsPeersPastTheirTTL(t *testing.T) {
	start := time.Unix(1000, 0)
	r, hash := registryWithPeers(t, 10, start)
	later := start.Add(DefaultPeerTTL - time.Second)
	for i := 1; i <= 2; i++ { // peers 1 and 2 keep announcing; the others fall silent
		a := announceParams{infoHash: hash, peerID: peerID(i), left: 1, addr: peerAddr(i)}
		if _, err := r.announce(&a, later, nil); err != nil {
			t.Fatal(err)
		}
	}
	expired := start.Add(DefaultPeerTTL + time.Second)
	a := announceParams{infoHash: hash, peerID: peerID(1), left: 1, numWant: 50, addr: peerAddr(1)}
	res, err := r.announce(&a, expired, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.peers) != 1 || res.peers[0].id != peerID(2) {
		t.Fatalf("sample %v, want only peer 2, the other live one", res.peers)
	}
}
