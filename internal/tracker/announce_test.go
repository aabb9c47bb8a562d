package tracker

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/tracker/protocol"
)

func TestAnnounceFailureReasons(t *testing.T) {
	hash, id := id20(1), id20(2)
	tests := []struct {
		name   string
		modify func(q map[string][]string)
		raw    string // a raw query instead of the valid one, when set
		want   string
	}{
		{name: "missing info_hash", modify: func(q map[string][]string) { delete(q, "info_hash") }, want: "missing info_hash"},
		{name: "short info_hash", modify: func(q map[string][]string) { q["info_hash"] = []string{"abc"} }, want: "info_hash must be 20 bytes, got 3"},
		{name: "two info_hash", modify: func(q map[string][]string) { q["info_hash"] = append(q["info_hash"], q["info_hash"][0]) }, want: "info_hash given 2 times"},
		{name: "missing peer_id", modify: func(q map[string][]string) { delete(q, "peer_id") }, want: "missing peer_id"},
		{name: "long peer_id", modify: func(q map[string][]string) { q["peer_id"] = []string{strings.Repeat("x", 21)} }, want: "peer_id must be 20 bytes, got 21"},
		{name: "missing port", modify: func(q map[string][]string) { delete(q, "port") }, want: "missing port"},
		{name: "port zero", modify: func(q map[string][]string) { q["port"] = []string{"0"} }, want: "port must be an integer from 1 to 65535"},
		{name: "port too big", modify: func(q map[string][]string) { q["port"] = []string{"65536"} }, want: "port must be an integer from 1 to 65535"},
		{name: "port not a number", modify: func(q map[string][]string) { q["port"] = []string{"http"} }, want: `got "http"`},
		{name: "missing uploaded", modify: func(q map[string][]string) { delete(q, "uploaded") }, want: "missing uploaded"},
		{name: "negative downloaded", modify: func(q map[string][]string) { q["downloaded"] = []string{"-1"} }, want: "downloaded must be an integer from 0"},
		{name: "missing left", modify: func(q map[string][]string) { delete(q, "left") }, want: "missing left"},
		{name: "left overflows", modify: func(q map[string][]string) { q["left"] = []string{"99999999999999999999"} }, want: "left must be an integer"},
		{name: "unknown event", modify: func(q map[string][]string) { q["event"] = []string{"exploded"} }, want: `unknown event "exploded"`},
		{name: "bad compact", modify: func(q map[string][]string) { q["compact"] = []string{"yes"} }, want: `compact must be 0 or 1, got "yes"`},
		{name: "negative numwant", modify: func(q map[string][]string) { q["numwant"] = []string{"-5"} }, want: "numwant must be an integer from 0"},
		{name: "name too long", modify: func(q map[string][]string) { q["name"] = []string{strings.Repeat("a", 254)} }, want: "name must be at most 253 bytes, got 254"},
		{name: "name with a space", modify: func(q map[string][]string) { q["name"] = []string{"pod 1"} }, want: "name may hold only letters"},
		{name: "malformed escape", raw: "info_hash=%zz", want: "malformed query"},
	}
	srv := NewServer(Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			query := tc.raw
			if query == "" {
				q := announceValues(hash, id, 6881)
				tc.modify(q)
				query = q.Encode()
			}
			req := httptest.NewRequest(http.MethodGet, "/announce?"+query, nil)
			req.RemoteAddr = "10.0.0.1:5000"
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("HTTP %d, want 200 with a failure reason", rec.Code)
			}
			reason, _ := decodeDict(t, rec.Body.Bytes())["failure reason"].(string)
			if !strings.Contains(reason, tc.want) {
				t.Fatalf("failure reason %q, want it to contain %q", reason, tc.want)
			}
		})
	}
}

func TestAnnounceRejectsOtherMethods(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/announce", nil)
	rec := httptest.NewRecorder()
	NewServer(Config{}).ServeHTTP(rec, req)
	if reason := decodeDict(t, rec.Body.Bytes())["failure reason"]; reason != "method must be GET, not POST" {
		t.Fatalf("failure reason %q", reason)
	}
}

func TestAnnounceUsesConnectionAddressNotIPParameter(t *testing.T) {
	srv := NewServer(Config{})
	hash := id20(1)
	if _, err := announceAs(t, srv, hash, id20(2), "10.0.0.2:40000", 6881, map[string]string{"ip": "6.6.6.6"}); err != nil {
		t.Fatal(err)
	}
	resp, err := announceAs(t, srv, hash, id20(3), "10.0.0.3:40000", 6882, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := netip.MustParseAddrPort("10.0.0.2:6881")
	if len(resp.Peers) != 1 || resp.Peers[0] != want {
		t.Fatalf("peers %v, want [%v]: the announced port on the connection's IP", resp.Peers, want)
	}
}

func TestAnnounceCountsAndIntervals(t *testing.T) {
	srv := NewServer(Config{Interval: DefaultInterval})
	hash := id20(1)
	mustAnnounce(t, srv, hash, id20(2), "10.0.0.2:1", 6881, map[string]string{"left": "0"})
	mustAnnounce(t, srv, hash, id20(3), "10.0.0.3:1", 6881, nil)
	resp, err := announceAs(t, srv, hash, id20(4), "10.0.0.4:1", 6881, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Complete != 1 || resp.Incomplete != 2 {
		t.Fatalf("complete %d incomplete %d, want 1 and 2", resp.Complete, resp.Incomplete)
	}
	if resp.Interval != DefaultInterval || resp.MinInterval != DefaultMinInterval {
		t.Fatalf("interval %v min %v, want %v and %v", resp.Interval, resp.MinInterval, DefaultInterval, DefaultMinInterval)
	}
	if len(resp.Peers) != 2 {
		t.Fatalf("%d peers, want the 2 others", len(resp.Peers))
	}
}

func TestAnnounceDictionaryForm(t *testing.T) {
	srv := NewServer(Config{})
	hash := id20(1)
	mustAnnounce(t, srv, hash, id20(2), "10.0.0.2:1", 6881, nil)
	mustAnnounce(t, srv, hash, id20(3), "[2001:db8::3]:1", 6883, nil)
	for _, noPeerID := range []string{"0", "1"} {
		q := announceValues(hash, id20(4), 6884)
		q.Set("compact", "0")
		q.Set("no_peer_id", noPeerID)
		body := serve(t, srv, "/announce", q, "10.0.0.4:1").Body.Bytes()
		peers, _ := decodeDict(t, body)["peers"].([]any)
		if len(peers) != 2 {
			t.Fatalf("no_peer_id=%s: peers %v, want a list of 2 dictionaries", noPeerID, peers)
		}
		for _, p := range peers {
			d := p.(map[string]any)
			if _, hasID := d["peer id"]; hasID != (noPeerID == "0") {
				t.Fatalf("no_peer_id=%s: peer %v has peer id %v", noPeerID, d, hasID)
			}
		}
		resp, err := protocol.DecodeAnnounce(body)
		if err != nil {
			t.Fatal(err)
		}
		assertPeers(t, resp.Peers, "10.0.0.2:6881", "[2001:db8::3]:6883")
	}
}

func TestAnnounceCompactSplitsIPv6IntoPeers6(t *testing.T) {
	srv := NewServer(Config{})
	hash := id20(1)
	mustAnnounce(t, srv, hash, id20(2), "10.0.0.2:1", 6881, nil)
	mustAnnounce(t, srv, hash, id20(3), "[2001:db8::3]:1", 6883, nil)
	body := serve(t, srv, "/announce", announceValues(hash, id20(4), 6884), "[::ffff:10.0.0.4]:1").Body.Bytes()
	d := decodeDict(t, body)
	if p, _ := d["peers"].(string); len(p) != 6 {
		t.Fatalf("peers %q, want one 6-byte IPv4 entry", p)
	}
	if p6, _ := d["peers6"].(string); len(p6) != 18 {
		t.Fatalf("peers6 %q, want one 18-byte IPv6 entry", p6)
	}
	resp, err := protocol.DecodeAnnounce(body)
	if err != nil {
		t.Fatal(err)
	}
	assertPeers(t, resp.Peers, "10.0.0.2:6881", "[2001:db8::3]:6883")
	// The IPv4-mapped asker was recorded as plain IPv4.
	resp = mustAnnounce(t, srv, hash, id20(2), "10.0.0.2:1", 6881, map[string]string{"numwant": "50"})
	assertPeers(t, resp.Peers, "10.0.0.4:6884", "[2001:db8::3]:6883")
}

func TestAnnounceStoppedRemovesThePeer(t *testing.T) {
	srv := NewServer(Config{})
	hash := id20(1)
	mustAnnounce(t, srv, hash, id20(2), "10.0.0.2:1", 6881, nil)
	mustAnnounce(t, srv, hash, id20(2), "10.0.0.2:1", 6881, map[string]string{"event": "stopped"})
	resp, err := announceAs(t, srv, hash, id20(3), "10.0.0.3:1", 6881, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Peers) != 0 || resp.Incomplete != 1 {
		t.Fatalf("after stopped: peers %v incomplete %d, want none and 1 (the asker)", resp.Peers, resp.Incomplete)
	}
}

func TestAnnounceNumWantIsCapped(t *testing.T) {
	srv := NewServer(Config{MaxNumWant: 3})
	hash := id20(1)
	for i := range 10 {
		mustAnnounce(t, srv, hash, id20(byte(10+i)), netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(10 + i)}), 1).String(), 6881, nil)
	}
	resp := mustAnnounce(t, srv, hash, id20(99), "10.0.0.99:1", 6881, map[string]string{"numwant": "1000"})
	if len(resp.Peers) != 3 {
		t.Fatalf("%d peers for numwant=1000, want MaxNumWant=3", len(resp.Peers))
	}
	resp = mustAnnounce(t, srv, hash, id20(99), "10.0.0.99:1", 6881, nil)
	if len(resp.Peers) != 3 {
		t.Fatalf("%d peers by default, want min(DefaultNumWant, MaxNumWant) = 3", len(resp.Peers))
	}
}

func TestAnnounceBounds(t *testing.T) {
	srv := NewServer(Config{MaxSwarms: 1, MaxPeersPerSwarm: 2})
	mustAnnounce(t, srv, id20(1), id20(2), "10.0.0.2:1", 6881, nil)
	mustAnnounce(t, srv, id20(1), id20(3), "10.0.0.3:1", 6881, nil)
	_, err := announceAs(t, srv, id20(1), id20(4), "10.0.0.4:1", 6881, nil)
	if f, ok := errors.AsType[*protocol.FailureError](err); !ok || !strings.Contains(f.Reason, "swarm is full") {
		t.Fatalf("third peer: %v, want a swarm-full failure", err)
	}
	_, err = announceAs(t, srv, id20(9), id20(2), "10.0.0.2:1", 6881, nil)
	if f, ok := errors.AsType[*protocol.FailureError](err); !ok || !strings.Contains(f.Reason, "too many swarms") {
		t.Fatalf("second swarm: %v, want a too-many-swarms failure", err)
	}
	// A known peer still announces in a full swarm.
	if _, err := announceAs(t, srv, id20(1), id20(3), "10.0.0.3:1", 6881, nil); err != nil {
		t.Fatalf("known peer in a full swarm: %v", err)
	}
}

func TestSeederTransitionRatesAndCompleted(t *testing.T) {
	clock := newFakeClock()
	srv := NewServer(Config{Now: clock.Now})
	hash := id20(1)
	mustAnnounce(t, srv, hash, id20(2), "10.0.0.2:1", 6881, map[string]string{"event": "started", "left": "1000"})
	clock.Advance(10 * time.Second)
	mustAnnounce(t, srv, hash, id20(2), "10.0.0.2:1", 6881, map[string]string{
		"event": "completed", "left": "0", "downloaded": "1000", "uploaded": "500"})
	sw, ok := srv.reg.swarmByKey("0101010101010101010101010101010101010101", clock.Now(), true)
	if !ok || len(sw.Peers) != 1 {
		t.Fatalf("swarm %+v, want one peer", sw)
	}
	p := sw.Peers[0]
	if !p.Seeder || sw.Seeders != 1 || sw.Leechers != 0 || sw.Completed != 1 {
		t.Fatalf("after completed: peer seeder %v, swarm %d seeders %d leechers %d completed", p.Seeder, sw.Seeders, sw.Leechers, sw.Completed)
	}
	if p.DownloadRate != 100 || p.UploadRate != 50 {
		t.Fatalf("rates down %v up %v, want 100 and 50 B/s over 10 s", p.DownloadRate, p.UploadRate)
	}
	if p.CompletedAt == nil || !p.CompletedAt.Equal(clock.Now()) {
		t.Fatalf("CompletedAt %v, want %v", p.CompletedAt, clock.Now())
	}
	if _, peers, seeders := srv.reg.counts(); peers != 1 || seeders != 1 {
		t.Fatalf("totals %d peers %d seeders, want 1 and 1", peers, seeders)
	}
}

// assertPeers fails unless got holds exactly the wanted addresses, in any order.
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
