package tracker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/client"
)

// These tests play the attacker against the tracker's trust rules: the publish secret, the
// registered-only mode and peers known by (peer id, IP).

const testToken = "s3cret-token_0123456789"

// putTorrentAs sends PUT /api/v1/torrents/{name} with the given Authorization header (none when
// empty) from remote, and returns the recorder.
func putTorrentAs(t *testing.T, srv http.Handler, name string, body []byte, authorization string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPut, "/api/v1/torrents/"+name, bytes.NewReader(body))
	req.RemoteAddr = "10.6.6.6:4000"
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

func TestUploadWithoutThePublishTokenIsRefused(t *testing.T) {
	srv := NewServer(Config{PublishToken: testToken})
	intruder, _ := makeTorrent(t, 100<<10, 66, "")
	intruderData, err := intruder.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, authorization, reason string
	}{
		{"no header", "", refusedNoToken},
		{"basic scheme", "Basic " + testToken, refusedNoToken},
		{"bearer without token", "Bearer ", refusedNoToken},
		{"token without scheme", testToken, refusedNoToken},
		{"wrong token", "Bearer guess", refusedWrongToken},
		{"token prefix", "Bearer " + testToken[:len(testToken)-1], refusedWrongToken},
		{"token with a suffix", "Bearer " + testToken + "x", refusedWrongToken},
		{"other case", "Bearer " + strings.ToUpper(testToken), refusedWrongToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := counterValue(t, srv.metrics.UploadsRefused.WithLabelValues(tc.reason))
			rec := putTorrentAs(t, srv, "demo", intruderData, tc.authorization)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("HTTP %d, want 401", rec.Code)
			}
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q, want a Bearer challenge", rec.Header().Get("WWW-Authenticate"))
			}
			var body api.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" {
				t.Errorf("body %q is not a JSON error: %v", rec.Body.String(), err)
			}
			if strings.Contains(rec.Body.String(), testToken) {
				t.Error("the refusal shows the token")
			}
			if got := counterValue(t, srv.metrics.UploadsRefused.WithLabelValues(tc.reason)); got != before+1 {
				t.Errorf("refused uploads (%s) went from %v to %v, want +1", tc.reason, before, got)
			}
		})
	}
	if swarms, _, _ := srv.reg.counts(); swarms != 0 {
		t.Fatalf("refused uploads created %d swarms", swarms)
	}
	if rec := serve(t, srv, "/api/v1/torrents/demo", nil, "10.0.0.1:1"); rec.Code != http.StatusNotFound {
		t.Fatalf("GET after refused uploads: HTTP %d, want 404", rec.Code)
	}

	// The holder of the secret stores the name the intruder tried, and keeps 409 for another
	// torrent under it.
	real, _ := makeTorrent(t, 100<<10, 1, "")
	realData, _ := real.Encode()
	if rec := putTorrentAs(t, srv, "demo", realData, "Bearer "+testToken); rec.Code != http.StatusCreated {
		t.Fatalf("PUT with the token: HTTP %d %s, want 201", rec.Code, rec.Body)
	}
	if rec := putTorrentAs(t, srv, "demo", realData, "bearer  "+testToken); rec.Code != http.StatusOK {
		t.Fatalf("PUT again (scheme in lower case): HTTP %d %s, want 200", rec.Code, rec.Body)
	}
	if rec := putTorrentAs(t, srv, "demo", intruderData, "Bearer "+testToken); rec.Code != http.StatusConflict {
		t.Fatalf("PUT of another torrent with the token: HTTP %d, want 409", rec.Code)
	}
	if rec := serve(t, srv, "/api/v1/torrents/demo", nil, "10.0.0.1:1"); !bytes.Equal(rec.Body.Bytes(), realData) {
		t.Fatal("GET does not return the torrent stored with the token")
	}
}

// A refused upload is answered before its body is read: an intruder cannot make the tracker read
// (or answer 413 for) a body of any size.
func TestUploadIsRefusedBeforeItsBodyIsRead(t *testing.T) {
	srv := NewServer(Config{PublishToken: testToken, MaxTorrentBytes: 1 << 10})
	body := &countingReader{n: 1 << 20}
	req := httptest.NewRequest(http.MethodPut, "/api/v1/torrents/demo", body)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || body.read != 0 {
		t.Fatalf("HTTP %d after reading %d bytes, want 401 and nothing read", rec.Code, body.read)
	}
}

// countingReader serves n zero bytes and counts those read.
type countingReader struct{ n, read int }

func (r *countingReader) Read(p []byte) (int, error) {
	if r.read >= r.n {
		return 0, errors.New("EOF")
	}
	k := min(len(p), r.n-r.read)
	clear(p[:k])
	r.read += k
	return k, nil
}

// Without a token configured, uploads are open as before (the local demo, the lab, interop).
func TestUploadWithoutAConfiguredTokenIsOpen(t *testing.T) {
	srv := NewServer(Config{})
	_, data := makeTorrent(t, 100<<10, 1, "")
	if rec := putTorrentAs(t, srv, "demo", data, ""); rec.Code != http.StatusCreated {
		t.Fatalf("HTTP %d, want 201", rec.Code)
	}
	if rec := putTorrentAs(t, srv, "other", data, "Bearer anything"); rec.Code != http.StatusConflict {
		t.Fatalf("a bearer token to a tracker without one: HTTP %d, want the usual 409", rec.Code)
	}
}

// Many refusals make one log line per refusalLogInterval, not one each.
func TestRefusedUploadsAreLoggedSparingly(t *testing.T) {
	clock := newFakeClock()
	var logs bytes.Buffer
	srv := NewServer(Config{PublishToken: testToken, Now: clock.Now, Logger: slogTo(&logs)})
	for range 100 {
		putTorrentAs(t, srv, "demo", []byte("x"), "Bearer wrong")
	}
	clock.Advance(refusalLogInterval)
	putTorrentAs(t, srv, "demo", []byte("x"), "")
	lines := strings.Count(logs.String(), "Refused a torrent upload")
	if lines != 2 || !strings.Contains(logs.String(), "refusedUnlogged=99") {
		t.Fatalf("%d log lines for 101 refusals, want 2 (the second counting 99 unlogged):\n%s", lines, logs.String())
	}
}

func TestRegisteredOnlyRefusesUnknownInfoHashes(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv := NewServer(Config{RegisteredOnly: true, Registerer: reg})
	for i := range 50 { // junk swarms: every event, every hash new
		hash := id20(byte(100 + i))
		for _, event := range []string{"started", "", "completed", "stopped"} {
			_, err := announceAs(t, srv, hash, id20(2), "10.6.6.6:1", 6881, map[string]string{"event": event})
			var failure *client.FailureError
			if !errors.As(err, &failure) || failure.Reason != "unregistered torrent" {
				t.Fatalf("announce (%q) of an unregistered hash: %v, want failure reason \"unregistered torrent\"", event, err)
			}
		}
		rec := serve(t, srv, "/scrape", map[string][]string{"info_hash": {string(hash[:])}}, "10.6.6.6:1")
		if reason, _ := decodeDict(t, rec.Body.Bytes())["failure reason"].(string); reason != "unregistered torrent" {
			t.Fatalf("scrape of an unregistered hash: failure reason %q", reason)
		}
	}
	srv.reg.mu.Lock()
	swarms, aliases, names := len(srv.reg.swarms), len(srv.reg.aliases), len(srv.reg.byName)
	srv.reg.mu.Unlock()
	if swarms+aliases+names != 0 {
		t.Fatalf("refused announces left %d swarms, %d aliases, %d names", swarms, aliases, names)
	}
	if got := counterValue(t, srv.metrics.RequestsRefused.WithLabelValues("announce", "unregistered")); got != 200 {
		t.Errorf("refused announces metric %v, want 200", got)
	}
	if got := counterValue(t, srv.metrics.RequestsRefused.WithLabelValues("scrape", "unregistered")); got != 50 {
		t.Errorf("refused scrapes metric %v, want 50", got)
	}
}

// A registered hybrid torrent is reachable under its v1 info-hash and under its truncated v2
// info-hash (its alias, as libtorrent announces it), and a scrape mixing a registered and an
// unregistered hash is refused as a whole.
func TestRegisteredOnlyServesStoredTorrentsAndTheirV2Alias(t *testing.T) {
	ctx := context.Background()
	_, c, _ := startTracker(t, Config{RegisteredOnly: true})
	m, data := makeTorrent(t, 300<<10, 1, "")
	v1, v2 := m.InfoHashV1(), m.InfoHashV2()
	alias := [20]byte(v2[:20])
	if _, err := c.Announce(ctx, client.AnnounceRequest{InfoHash: v1, PeerID: id20('S'), Port: 7001, Event: "started"}); err == nil {
		t.Fatal("an announce before the torrent was stored was accepted")
	}
	if err := c.PublishTorrent(ctx, "demo", data); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Announce(ctx, client.AnnounceRequest{InfoHash: v1, PeerID: id20('S'), Port: 7001, Event: "started"}); err != nil {
		t.Fatalf("v1 announce: %v", err)
	}
	resp, err := c.Announce(ctx, client.AnnounceRequest{InfoHash: alias, PeerID: id20('L'), Port: 7002, Left: 1, Event: "started"})
	if err != nil || resp.Complete != 1 || resp.Incomplete != 1 {
		t.Fatalf("alias announce: %+v, %v; want the v1 swarm's seeder and this leecher", resp, err)
	}
	stats, err := c.Scrape(ctx, v1, alias)
	if err != nil || stats[alias].Incomplete != 1 || stats[v1].Complete != 1 {
		t.Fatalf("scrape: %+v, %v", stats, err)
	}
	if _, err := c.Scrape(ctx, v1, id20(9)); err == nil {
		t.Fatal("a scrape with an unregistered hash was answered")
	}
	all, err := c.Scrape(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("full scrape: %+v, %v; want the one registered swarm", all, err)
	}
}

// Without RegisteredOnly any info-hash makes a swarm, as before.
func TestWithoutRegisteredOnlyAnyInfoHashIsTracked(t *testing.T) {
	srv := NewServer(Config{})
	mustAnnounce(t, srv, id20(1), id20(2), "10.0.0.2:1", 6881, nil)
	if swarms, peers, _ := srv.reg.counts(); swarms != 1 || peers != 1 {
		t.Fatalf("%d swarms %d peers, want 1 and 1", swarms, peers)
	}
}

// An attacker at another IP who knows a live peer's id cannot stop it, overwrite its progress,
// its name or its address: the announce is refused and nothing changes.
func TestAnnounceOfALivePeerIDFromAnotherIPChangesNothing(t *testing.T) {
	clock := newFakeClock()
	srv := NewServer(Config{Now: clock.Now})
	hash, victim := id20(1), id20(2)
	mustAnnounce(t, srv, hash, victim, "10.0.0.2:1", 6881, map[string]string{"left": "1000", "name": "peer-0"})
	mustAnnounce(t, srv, hash, id20(3), "10.0.0.3:1", 6881, map[string]string{"left": "0", "name": "seeder-0"})
	before, _ := srv.Swarm("0101010101010101010101010101010101010101")

	for _, set := range []map[string]string{
		{"event": "stopped"},
		{"event": "completed", "left": "0", "name": "peer-0"},
		{"left": "0", "name": "peer-0"},
		{"event": "started", "left": "0", "name": "peer-1", "ip": "10.0.0.2"},
		{"left": "0", "bitfield": "AA", "connected": "9"},
	} {
		_, err := announceAs(t, srv, hash, victim, "10.6.6.6:1", 7777, set)
		var failure *client.FailureError
		if !errors.As(err, &failure) || failure.Reason != errPeerElsewhere.Error() {
			t.Fatalf("forged announce %v: %v, want failure reason %q", set, err, errPeerElsewhere)
		}
	}
	after, _ := srv.Swarm("0101010101010101010101010101010101010101")
	if !sameJSON(t, before, after) {
		t.Fatalf("forged announces changed the swarm:\nbefore %+v\nafter  %+v", before, after)
	}
	if got := counterValue(t, srv.metrics.RequestsRefused.WithLabelValues("announce", "peer_id_elsewhere")); got != 5 {
		t.Errorf("refused announces metric %v, want 5", got)
	}

	// The peer itself, from its own IP (another port: a restarted process), is served as usual.
	mustAnnounce(t, srv, hash, victim, "10.0.0.2:2", 6882, map[string]string{"left": "500", "name": "peer-0"})
	sw, _ := srv.Swarm("0101010101010101010101010101010101010101")
	if p := findPeer(sw.Peers, "peer-0"); p == nil || p.Left != 500 || p.IP != "10.0.0.2" || p.Port != 6882 {
		t.Fatalf("the peer's own announce: %+v", p)
	}
	mustAnnounce(t, srv, hash, victim, "10.0.0.2:2", 6882, map[string]string{"event": "stopped"})
	if _, peers, _ := srv.reg.counts(); peers != 1 {
		t.Fatalf("%d peers after the peer's own stop, want 1", peers)
	}
}

// A pod restarted at a new IP with the same peer id is refused while its old entry lives, and
// takes its place once the old one is past the peer TTL (reaped or not).
func TestSamePeerIDFromANewIPAfterTheTTL(t *testing.T) {
	clock := newFakeClock()
	srv := NewServer(Config{Now: clock.Now})
	hash, id := id20(1), id20(2)
	mustAnnounce(t, srv, hash, id, "10.0.0.2:1", 6881, nil)
	clock.Advance(DefaultPeerTTL - time.Second)
	if _, err := announceAs(t, srv, hash, id, "10.0.0.9:1", 6881, nil); err == nil {
		t.Fatal("accepted from a new IP while the old entry is live")
	}
	clock.Advance(time.Second)
	mustAnnounce(t, srv, hash, id, "10.0.0.9:1", 6881, map[string]string{"left": "7"})
	sw, _ := srv.Swarm("0101010101010101010101010101010101010101")
	if len(sw.Peers) != 1 || sw.Peers[0].IP != "10.0.0.9" || sw.Peers[0].Left != 7 {
		t.Fatalf("peers %+v, want only the new entry", sw.Peers)
	}
	if _, peers, _ := srv.reg.counts(); peers != 1 {
		t.Fatalf("%d peers counted, want 1", peers)
	}
}

// The JSON API's IP is the TCP source address, whatever "ip" parameter the announce sends; an
// IPv4-mapped IPv6 source is the same peer as its IPv4 address.
func TestAPIPeerIPIsTheSourceAddress(t *testing.T) {
	srv := NewServer(Config{})
	hash := id20(1)
	mustAnnounce(t, srv, hash, id20(2), "10.0.0.2:1", 6881, map[string]string{"ip": "10.9.9.9", "name": "peer-0"})
	mustAnnounce(t, srv, hash, id20(2), "[::ffff:10.0.0.2]:1", 6881, map[string]string{"ipv4": "10.9.9.8", "name": "peer-0"})
	sw, _ := srv.Swarm("0101010101010101010101010101010101010101")
	if len(sw.Peers) != 1 || sw.Peers[0].IP != "10.0.0.2" {
		t.Fatalf("peers %+v, want one at the source address 10.0.0.2", sw.Peers)
	}
}

// findPeer returns the peer named name, or nil.
func findPeer(peers []api.Peer, name string) *api.Peer {
	for i := range peers {
		if peers[i].Name == name {
			return &peers[i]
		}
	}
	return nil
}

// slogTo is a text logger writing to w.
func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, nil))
}

// sameJSON reports whether a and b encode to the same JSON.
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return bytes.Equal(ja, jb)
}
