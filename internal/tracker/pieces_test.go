package tracker

import (
	"context"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/wire"
)

// swarmWithTorrent starts a tracker and stores a torrent of 10 pieces (64 KiB each, the last
// short) under "ten"; it returns the server, a client and the torrent's v1 info-hash.
func swarmWithTorrent(t *testing.T) (*Server, *client.Client, [20]byte) {
	t.Helper()
	srv, client, _ := startTracker(t, Config{})
	m, data := makeTorrent(t, 9*64<<10+1000, 5, "")
	if err := client.PublishTorrent(context.Background(), "ten", data); err != nil {
		t.Fatal(err)
	}
	if m.NumPieces() != 10 {
		t.Fatalf("torrent has %d pieces, want 10", m.NumPieces())
	}
	return srv, client, m.InfoHashV1()
}

// bitsOf builds a bitfield of n pieces holding the given ones.
func bitsOf(n int, have ...int) wire.Bitfield {
	b := wire.NewBitfield(n)
	for _, i := range have {
		b.Set(i)
	}
	return b
}

// announceBits announces peer id with left bytes and bitfield bf (nil: none).
func announceBits(t *testing.T, c *client.Client, hash [20]byte, id byte, left int64, bf []byte, event string) {
	t.Helper()
	_, err := c.Announce(context.Background(), client.AnnounceRequest{
		InfoHash: hash, PeerID: id20(id), Port: 7000 + int(id), Left: left, Bitfield: bf, Event: event,
	})
	if err != nil {
		t.Fatalf("announce of peer %d: %v", id, err)
	}
}

// availability reads the swarm's availability from the JSON API.
func availability(t *testing.T, c *client.Client) ([]int, int) {
	t.Helper()
	s, err := c.Swarm(context.Background(), "ten")
	if err != nil {
		t.Fatal(err)
	}
	return s.Availability, s.AvailabilityPeers
}

func TestAvailabilityFollowsBitfieldsSeedersAndDepartures(t *testing.T) {
	_, c, hash := swarmWithTorrent(t)
	if got, _ := availability(t, c); !slices.Equal(got, make([]int, 10)) {
		t.Fatalf("availability of an empty swarm = %v, want ten zeros", got)
	}
	announceBits(t, c, hash, 1, 0, nil, "started") // a seeder holds everything
	announceBits(t, c, hash, 2, 500, bitsOf(10, 0, 1, 9), "started")
	announceBits(t, c, hash, 3, 500, bitsOf(10, 1, 2), "started")
	announceBits(t, c, hash, 4, 500, nil, "started") // a standard client: not counted
	got, peers := availability(t, c)
	if want := []int{2, 3, 2, 1, 1, 1, 1, 1, 1, 2}; !slices.Equal(got, want) || peers != 3 {
		t.Fatalf("availability = %v from %d peers, want %v from 3", got, peers, want)
	}

	announceBits(t, c, hash, 2, 400, bitsOf(10, 0, 1, 5, 9), "") // gained piece 5
	announceBits(t, c, hash, 3, 400, nil, "")                    // no bitfield: the last one stands
	if got, _ := availability(t, c); !slices.Equal(got, []int{2, 3, 2, 1, 1, 2, 1, 1, 1, 2}) {
		t.Fatalf("after updates availability = %v", got)
	}

	announceBits(t, c, hash, 3, 0, nil, "completed") // now a seeder: counted whole, once
	if got, peers := availability(t, c); !slices.Equal(got, []int{3, 3, 2, 2, 2, 3, 2, 2, 2, 3}) || peers != 3 {
		t.Fatalf("after a completion availability = %v from %d peers", got, peers)
	}

	announceBits(t, c, hash, 2, 400, nil, "stopped") // its pieces leave with it
	if got, peers := availability(t, c); !slices.Equal(got, []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}) || peers != 2 {
		t.Fatalf("after a departure availability = %v from %d peers", got, peers)
	}
}

func TestPeerViewShowsPiecesAndHealth(t *testing.T) {
	_, c, hash := swarmWithTorrent(t)
	_, err := c.Announce(context.Background(), client.AnnounceRequest{
		InfoHash: hash, PeerID: id20(7), Port: 7007, Left: 100, Bitfield: bitsOf(10, 3, 4, 8),
		Health: &api.PeerHealth{Connected: 6, ChokedBy: 4, Bans: 1, HashFailures: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Swarm(context.Background(), "ten")
	if err != nil {
		t.Fatal(err)
	}
	p := s.Peers[0]
	if p.PiecesHave == nil || *p.PiecesHave != 3 {
		t.Errorf("piecesHave = %v, want 3", p.PiecesHave)
	}
	want := &api.PeerHealth{Connected: 6, ChokedBy: 4, Bans: 1, HashFailures: 2}
	if diff := cmp.Diff(want, p.Health); diff != "" {
		t.Errorf("health mismatch (-want +got):\n%s", diff)
	}
	if s.StartedAt == nil || s.LastCompletedAt != nil {
		t.Errorf("startedAt %v, lastCompletedAt %v: want a start and no completion", s.StartedAt, s.LastCompletedAt)
	}
}

func TestBitfieldIsIgnoredWithoutAStoredTorrent(t *testing.T) {
	_, c, _ := startTracker(t, Config{})
	hash := id20(42)
	announceBits(t, c, hash, 1, 100, []byte{0xff, 0xff, 0xff}, "started")
	s, err := c.Swarm(context.Background(), hexHash(hash))
	if err != nil {
		t.Fatal(err)
	}
	if s.Availability != nil || s.Peers[0].PiecesHave != nil {
		t.Errorf("availability %v, piecesHave %v: want none when the piece count is unknown", s.Availability, s.Peers[0].PiecesHave)
	}
}

func TestBadPieceExtensionsGetAFailureReason(t *testing.T) {
	srv, _, hash := swarmWithTorrent(t)
	enc := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name string
		set  map[string]string
		want string
	}{
		{"not base64", map[string]string{"bitfield": "***"}, "bitfield must be base64url"},
		{"too short", map[string]string{"bitfield": enc([]byte{0xff})}, "bitfield does not fit the swarm's 10 pieces"},
		{"too long", map[string]string{"bitfield": enc([]byte{0, 0, 0})}, "bitfield does not fit"},
		{"spare bits set", map[string]string{"bitfield": enc([]byte{0xff, 0xff})}, "spare bits"},
		{"huge", map[string]string{"bitfield": strings.Repeat("A", 2<<20)}, "bitfield must be at most"},
		{"choked by more than connected", map[string]string{"connected": "2", "choked_by": "3"}, "choked_by must be an integer from 0 to 2"},
		{"negative bans", map[string]string{"connected": "2", "bans": "-1"}, "bans must be an integer from 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := announceAs(t, srv, hash, id20(9), "127.0.0.1:1000", 7009, tc.set)
			if fe, ok := errors.AsType[*client.FailureError](err); !ok || !strings.Contains(fe.Reason, tc.want) {
				t.Fatalf("error %v, want a failure reason containing %q", err, tc.want)
			}
		})
	}
	// A valid padded bitfield is accepted.
	mustAnnounce(t, srv, hash, id20(9), "127.0.0.1:1000", 7009, map[string]string{"bitfield": base64.URLEncoding.EncodeToString(bitsOf(10, 0, 9))})
}

// TestAvailabilityMatchesARecount drives random bitfield changes, completions and departures
// and checks the incremental counts against a count from scratch.
func TestAvailabilityMatchesARecount(t *testing.T) {
	const pieces, peers = 77, 12
	r := newRegistry(Config{}.withDefaults())
	now := time.Now()
	hash := id20(1)
	s, err := r.addSwarm(hash, now)
	if err != nil {
		t.Fatal(err)
	}
	s.torrent = &storedTorrent{name: "x", pieces: pieces}
	rng := rand.New(rand.NewPCG(1, 2))
	held := map[[20]byte]wire.Bitfield{} // what each live peer holds: the model
	for step := range 2000 {
		id := id20(byte(1 + rng.IntN(peers)))
		a := announceParams{infoHash: hash, peerID: id, left: 1 + int64(rng.IntN(1000))}
		switch rng.IntN(10) {
		case 0:
			a.event = "stopped"
			delete(held, id)
		case 1:
			a.left = 0
			held[id] = wire.NewFullBitfield(pieces)
		default:
			bf := wire.NewBitfield(pieces)
			for i := range pieces {
				if rng.IntN(3) == 0 {
					bf.Set(i)
				}
			}
			a.bitfield = bf
			held[id] = bf
		}
		if _, err := r.announce(&a, now, nil); err != nil {
			t.Fatal(err)
		}
		view, _ := r.swarmByKey(hexHash(hash), now, true)
		want := make([]int, pieces)
		for _, bf := range held {
			for i := range pieces {
				if bf.Has(i) {
					want[i]++
				}
			}
		}
		if !slices.Equal(view.Availability, want) || view.AvailabilityPeers != len(held) {
			t.Fatalf("step %d: availability %v from %d peers, want %v from %d", step, view.Availability, view.AvailabilityPeers, want, len(held))
		}
	}
}

func TestTrackerServesTheDashboard(t *testing.T) {
	_, _, hs := startTracker(t, Config{})
	for _, path := range []string{"/", "/dashboard/"} {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: HTTP %d %s, want the dashboard's HTML", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if body := httpGet(t, hs.URL+"/metrics"); !strings.Contains(body, `handler="dashboard"`) {
		t.Errorf("the dashboard's page is not timed under handler=\"dashboard\"")
	}
}

// BenchmarkAnnounceWithBitfield is one leecher's heartbeat with a bitfield of 40960 pieces
// (10 GiB in 256 KiB pieces) that gained one piece, in a swarm of 100 such leechers.
func BenchmarkAnnounceWithBitfield(b *testing.B) {
	const pieces, peers = 40960, 100
	r := newRegistry(Config{}.withDefaults())
	now := time.Now()
	hash := id20(1)
	s, _ := r.addSwarm(hash, now)
	s.torrent = &storedTorrent{name: "x", pieces: pieces}
	fields := make([]wire.Bitfield, peers)
	for i := range fields {
		fields[i] = wire.NewBitfield(pieces)
		a := announceParams{infoHash: hash, peerID: peerID(i), left: 1, bitfield: fields[i]}
		if _, err := r.announce(&a, now, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := i % peers
		fields[p].Set((i / peers) % pieces)
		a := announceParams{infoHash: hash, peerID: peerID(p), left: 1, bitfield: fields[p]}
		if _, err := r.announce(&a, now, nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSwarmViewWithAvailability is GET /api/v1/swarms/{name}'s registry work for 100
// peers and 40960 pieces.
func BenchmarkSwarmViewWithAvailability(b *testing.B) {
	const pieces, peers = 40960, 100
	r := newRegistry(Config{}.withDefaults())
	now := time.Now()
	hash := id20(1)
	s, _ := r.addSwarm(hash, now)
	s.torrent = &storedTorrent{name: "x", pieces: pieces}
	for i := range peers {
		a := announceParams{infoHash: hash, peerID: peerID(i), left: 1, bitfield: wire.NewFullBitfield(pieces)}
		if _, err := r.announce(&a, now, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		r.swarmByKey(hexHash(hash), now, true)
	}
}
