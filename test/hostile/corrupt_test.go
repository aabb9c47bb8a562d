package hostile_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/wire"
)

// The corrupt-peer tests: a peer that sends bad blocks is banned once proven, and only it; the
// download completes with the right bytes.

// completeBound is the wide bound on a download of these tests' files (a clean run takes well
// under a second): what is asserted is completion, not speed.
const completeBound = 30 * time.Second

// TestCorruptSeederNextToHonestSeeder: a seeder that serves random bytes for every block, next
// to an honest uncapped seeder, both announced to the tracker. The leecher completes, only the
// corrupt seeder is banned. Ten runs: which seeder answers first is a race.
func TestCorruptSeederNextToHonestSeeder(t *testing.T) {
	RequireLoopback(t, IP(2))
	const runs = 10
	var clean, corrupt time.Duration
	for run := range runs {
		sw := NewSwarm(t, uint64(100+run), 8<<20, 256<<10)
		seeder := sw.StartSeeder(IP(1))
		ref := sw.StartLeecher(IP(1))
		clean += ref.WaitDone(t, completeBound)
		ref.Stop()

		bad := sw.StartHostile(HostileConfig{IP: IP(2), Block: Random()})
		if err := bad.Announce(context.Background()); err != nil {
			t.Fatal(err)
		}
		l := sw.StartLeecher(IP(1))
		d := l.WaitDone(t, completeBound)
		corrupt += d
		sw.AssertFile(t, l)
		st := l.Stats()
		t.Logf("run %d: clean %v, with the corrupt seeder %v; its blocks sent %d, hash failures %d, hash requests %d, bans %d (bad block %d)",
			run, ref.Stats().TimeToComplete, d, bad.Blocks.Load(), st.HashFailures, st.HashRequestsSent, st.Bans, st.BansBadBlock)
		if l.Banned(IP(1), seeder.PeerID()) {
			t.Fatalf("run %d: the honest seeder is banned", run)
		}
		if st.HashFailures > 0 && !l.Banned(IP(2), bad.ID()) {
			t.Fatalf("run %d: %d pieces failed and the corrupt seeder is not banned", run, st.HashFailures)
		}
		if st.Bans > 1 {
			t.Fatalf("run %d: %d bans, want at most the corrupt seeder", run, st.Bans)
		}
	}
	t.Logf("mean over %d runs: clean %v, with a corrupt seeder %v", runs, clean/runs, corrupt/runs)
}

// corruptSome returns a Block function that corrupts each block with probability 1/2, chosen
// by seed: a peer that hides among honest blocks.
func corruptSome(seed uint64) func(piece, begin int, data []byte) []byte {
	return func(piece, begin int, data []byte) []byte {
		sum := sha256.Sum256(fmt.Appendf(nil, "%d %d %d", seed, piece, begin))
		if sum[0]&1 == 0 {
			return data
		}
		data[sum[1]%byte(len(data)%251+1)] ^= 0xFF
		return data
	}
}

// TestOneCorruptPeerAmongTenHonest: 2 seeders and 8 leechers, honest, on 127.0.0.1, and one peer
// on 127.0.0.2 that corrupts about half its blocks and connects to every leecher. Over 20 seeds
// (content and which blocks are corrupted): no honest peer is ever banned by anyone, every
// leecher completes, and a leecher that got a bad piece banned the corrupt peer.
func TestOneCorruptPeerAmongTenHonest(t *testing.T) {
	RequireLoopback(t, IP(2))
	const seeds, leechers = 20, 8
	convictions := 0
	for seed := range uint64(seeds) {
		sw := NewSwarm(t, 1000+seed, 2<<20, 64<<10)
		honest := []*Peer{sw.StartSeeder(IP(1)), sw.StartSeeder(IP(1), func(c *peer.Config) { c.UploadRate = 2 << 20 })}
		bad := sw.StartHostile(HostileConfig{IP: IP(2), Block: corruptSome(seed)})
		if err := bad.Announce(context.Background()); err != nil {
			t.Fatal(err)
		}
		var ls []*Peer
		for range leechers {
			l := sw.StartLeecher(IP(1))
			ls = append(ls, l)
			honest = append(honest, l)
			_ = bad.Dial(l.Addr()) // refused when the leecher dialled it first (one connection per id)
		}
		failures := int64(0)
		for _, l := range ls {
			l.WaitDone(t, completeBound)
			sw.AssertFile(t, l)
			st := l.Stats()
			failures += st.HashFailures
			if st.HashFailures > 0 && !l.Banned(IP(2), bad.ID()) {
				t.Errorf("seed %d: a leecher had %d bad pieces and did not ban the corrupt peer", seed, st.HashFailures)
			}
			if l.Banned(IP(2), bad.ID()) {
				convictions++
			}
		}
		for _, judge := range honest {
			for _, h := range honest {
				if judge.Banned(IP(1), h.PeerID()) {
					t.Fatalf("seed %d: an honest peer is banned (%+v)", seed, judge.Stats())
				}
			}
			if st := judge.Stats(); st.Bans > 1 {
				t.Fatalf("seed %d: %d bans, at most the corrupt peer's expected", seed, st.Bans)
			}
		}
		t.Logf("seed %d: corrupt peer sent %d blocks, %d bad pieces in all", seed, bad.Blocks.Load(), failures)
		for _, p := range honest {
			p.Stop()
		}
	}
	t.Logf("the corrupt peer was banned by %d of %d leechers", convictions, seeds*leechers)
	if convictions == 0 {
		t.Fatal("the corrupt peer was never banned: the test did not exercise the blame")
	}
}

// TestLyingHashAnswerIsBanned: the only peer that speaks the hash messages answers with wrong
// leaf hashes. It is banned for them (its answer does not hash to the piece's hash), the corrupt
// block's sender is still convicted (the smart ban, once the piece verifies) and the download
// completes. The honest source does not speak the messages (like a v1 client). Which peers'
// blocks make up a failed piece is a race, so several runs; the liar must have been asked and
// banned in at least one.
func TestLyingHashAnswerIsBanned(t *testing.T) {
	RequireLoopback(t, IP(4))
	liarsBanned := 0
	for run := range 6 {
		sw := NewSwarm(t, uint64(200+run), 4<<20, 256<<10)
		source := sw.StartHostile(HostileConfig{IP: IP(2)})
		bad := sw.StartHostile(HostileConfig{IP: IP(3), Block: Random()})
		liar := sw.StartHostile(HostileConfig{IP: IP(4), Hashes: func(r wire.HashRange, honest []byte) []byte {
			honest[0] ^= 1
			return honest
		}})
		l := sw.StartLeecher(IP(1), func(c *peer.Config) {
			c.TrackerURL = ""
			c.Peers = []netip.AddrPort{source.Addr(), bad.Addr(), liar.Addr()}
		})
		l.WaitDone(t, completeBound)
		sw.AssertFile(t, l)
		st := l.Stats()
		t.Logf("run %d: hash failures %d, hash requests sent %d, liar answered %d, bans %d (bad block %d, bad hashes %d)",
			run, st.HashFailures, st.HashRequestsSent, liar.HashAnswers.Load(), st.Bans, st.BansBadBlock, st.BansBadHashes)
		if l.Banned(IP(2), source.ID()) {
			t.Fatalf("run %d: the honest source is banned", run)
		}
		if st.HashFailures > 0 && !l.Banned(IP(3), bad.ID()) {
			t.Fatalf("run %d: the corrupt peer is not banned", run)
		}
		if liar.HashAnswers.Load() > 0 {
			if !l.Banned(IP(4), liar.ID()) || st.BansBadHashes != 1 {
				t.Fatalf("run %d: the liar answered and is not banned for bad hashes", run)
			}
			liarsBanned++
		}
	}
	if liarsBanned == 0 {
		t.Fatal("the liar was never asked: the test did not exercise a lying answer")
	}
}

// TestSpoofedPeerIDBansTheSpoofer: a peer on 127.0.0.3 presents the honest seeder's peer id
// and sends corrupt blocks. The leecher meets it first (the seeder, dialling in with the same id
// meanwhile, is refused as a duplicate: the first connection stays), proves it bad, bans its
// IP, and never the seeder: the seeder's id was presented from another IP, so it is not banned,
// and the seeder's next dial is served and completes the download.
func TestSpoofedPeerIDBansTheSpoofer(t *testing.T) {
	RequireLoopback(t, IP(3))
	sw := NewSwarm(t, 300, 2<<20, 64<<10)
	seederID := PeerID("-MB0001-", 42)
	l := sw.StartLeecher(IP(1), func(c *peer.Config) { c.TrackerURL = "" })

	release := make(chan struct{})
	spoofer := sw.StartHostile(HostileConfig{IP: IP(3), PeerID: seederID, Block: func(piece, begin int, data []byte) []byte {
		<-release // holds its blocks until the real seeder has knocked
		return Random()(piece, begin, data)
	}})
	if err := spoofer.Dial(l.Addr()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the spoofer to be connected", func() bool { return l.Stats().PeersConnected == 1 })
	seeder := sw.StartSeeder(IP(1), func(c *peer.Config) {
		c.PeerID = seederID
		c.TrackerURL = ""
		c.Peers = []netip.AddrPort{l.Addr()}
	})
	waitFor(t, "the seeder to be refused as a duplicate", func() bool {
		return l.Stats().Refused["duplicate_id"] > 0
	})
	close(release)
	l.WaitDone(t, completeBound)
	sw.AssertFile(t, l)
	if !l.Banned(IP(3), [20]byte{}) {
		t.Error("the spoofer's IP is not banned")
	}
	if l.Banned(IP(1), seeder.PeerID()) {
		t.Error("the honest seeder is banned")
	}
	t.Logf("leecher: %+v", l.Stats())
}

// waitFor polls cond (a reading of a session's state) until it holds, within Timeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBanHoldsTheIPWhateverIDAndPort: once a peer is proven bad, a new connection from its IP is
// refused, with a new peer id and a new port.
func TestBanHoldsTheIPWhateverIDAndPort(t *testing.T) {
	RequireLoopback(t, IP(5))
	sw := NewSwarm(t, 400, 1<<20, 64<<10)
	l := sw.StartLeecher(IP(1), func(c *peer.Config) { c.TrackerURL = "" })
	bad := sw.StartHostile(HostileConfig{IP: IP(5), Block: Random()})
	if err := bad.Dial(l.Addr()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the corrupt peer's ban", func() bool { return l.Banned(IP(5), [20]byte{}) })
	again := sw.StartHostile(HostileConfig{IP: IP(5), PeerID: PeerID("-YY0001-", 1)})
	if err := again.Dial(l.Addr()); err == nil {
		waitFor(t, "the connection to be dropped", func() bool { return l.Stats().PeersConnected == 0 })
	}
	if again.Blocks.Load() != 0 || l.Stats().PeersConnected != 0 {
		t.Fatal("a new id from the banned IP was served")
	}
	sw.StartSeeder(IP(1), func(c *peer.Config) { c.TrackerURL = ""; c.Peers = []netip.AddrPort{l.Addr()} })
	l.WaitDone(t, completeBound)
	sw.AssertFile(t, l)
	if st := l.Stats(); st.Bans != 1 {
		t.Fatalf("%d bans, want the corrupt peer's only", st.Bans)
	}
}
