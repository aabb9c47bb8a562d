package tracker

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"

	"github.com/minibit-io/minibit/internal/tracker/protocol"
)

// FuzzAnnounce sends arbitrary queries from arbitrary addresses: the handler must never panic
// and must always answer HTTP 200 with a bencoded dictionary that holds either a failure reason
// or an interval and peers.
func FuzzAnnounce(f *testing.F) {
	valid := announceValues(id20(1), id20(2), 6881)
	f.Add(valid.Encode(), "10.0.0.1:1")
	for _, set := range []map[string]string{
		{"compact": "0"}, {"compact": "0", "no_peer_id": "1"}, {"event": "stopped"},
		{"event": "completed", "left": "0"}, {"numwant": "1000"}, {"name": "pod-1.example"},
		{"port": "0"}, {"left": "-1"}, {"event": "x"}, {"info_hash": "short"},
	} {
		q := announceValues(id20(1), id20(3), 6882)
		for k, v := range set {
			q.Set(k, v)
		}
		f.Add(q.Encode(), "[2001:db8::1]:1")
	}
	f.Add("info_hash=%zz", "10.0.0.1:1")
	f.Add("", "not an address")
	f.Add("info_hash=%00%01&&&peer_id=;;", "[::ffff:10.0.0.1]:9")
	srv := NewServer(Config{MaxSwarms: 8, MaxPeersPerSwarm: 16})
	f.Fuzz(func(t *testing.T, query, remote string) {
		req := httptest.NewRequest(http.MethodGet, "/announce", nil)
		req.URL.RawQuery = query
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d", rec.Code)
		}
		var d map[string]bencode.Bytes
		if err := bencode.Unmarshal(rec.Body.Bytes(), &d); err != nil {
			t.Fatalf("body %q is not a bencoded dictionary: %v", rec.Body.Bytes(), err)
		}
		_, failed := d["failure reason"]
		_, interval := d["interval"]
		_, peers := d["peers"]
		if !failed && (!interval || !peers) {
			t.Fatalf("body %q has neither a failure reason nor interval and peers", rec.Body.Bytes())
		}
		if !failed {
			if _, err := protocol.DecodeAnnounce(rec.Body.Bytes()); err != nil {
				t.Fatalf("the client cannot read the answer %q: %v", rec.Body.Bytes(), err)
			}
		}
	})
}

// The query the fuzzer starts from must itself succeed, so that the corpus reaches past parsing.
func TestFuzzSeedIsValid(t *testing.T) {
	q := announceValues(id20(1), id20(2), 6881)
	rec := serve(t, NewServer(Config{}), "/announce", q, "10.0.0.1:1")
	if _, failed := decodeDict(t, rec.Body.Bytes())["failure reason"]; failed {
		t.Fatalf("seed query %q fails: %s", q.Encode(), rec.Body.Bytes())
	}
}

// FuzzUploadAuthorization sends torrent uploads with arbitrary Authorization headers to a
// tracker with a publish token: only the exact token (after "Bearer ", any case of the scheme)
// gets past the 401, and nothing else is stored.
func FuzzUploadAuthorization(f *testing.F) {
	for _, h := range []string{"", "Bearer " + testToken, "bearer " + testToken, "Bearer", "Bearer  ",
		"Basic dXNlcjpwYXNz", "Bearer " + testToken + "\x00", "Bearer " + strings.Repeat("a", 5000), " Bearer x"} {
		f.Add(h)
	}
	srv := NewServer(Config{PublishToken: testToken})
	f.Fuzz(func(t *testing.T, authorization string) {
		req := httptest.NewRequest(http.MethodPut, "/api/v1/torrents/demo", strings.NewReader("not a torrent"))
		req.Header["Authorization"] = []string{authorization}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		scheme, token, _ := strings.Cut(authorization, " ")
		authorized := strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) == testToken
		switch {
		case authorized && rec.Code != http.StatusBadRequest: // past the check, the body is no torrent
			t.Fatalf("%q: HTTP %d, want 400 for the body", authorization, rec.Code)
		case !authorized && rec.Code != http.StatusUnauthorized:
			t.Fatalf("%q: HTTP %d, want 401", authorization, rec.Code)
		}
		if swarms, _, _ := srv.reg.counts(); swarms != 0 {
			t.Fatalf("%q: a swarm was created", authorization)
		}
	})
}

// FuzzRegisteredOnly sends arbitrary announces and scrapes to a registered-only tracker that
// holds no torrent: every answer is a failure reason (or an empty full scrape) and no swarm is
// ever created.
func FuzzRegisteredOnly(f *testing.F) {
	f.Add("/announce", announceValues(id20(1), id20(2), 6881).Encode())
	f.Add("/announce", "info_hash=%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01&event=stopped")
	f.Add("/scrape", "info_hash=%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01")
	f.Add("/scrape", "")
	srv := NewServer(Config{RegisteredOnly: true})
	f.Fuzz(func(t *testing.T, path, query string) {
		if path != "/scrape" {
			path = "/announce"
		}
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.URL.RawQuery = query
		req.RemoteAddr = "10.0.0.1:1"
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var d map[string]bencode.Bytes
		if err := bencode.Unmarshal(rec.Body.Bytes(), &d); err != nil {
			t.Fatalf("body %q is not a bencoded dictionary: %v", rec.Body.Bytes(), err)
		}
		if _, failed := d["failure reason"]; !failed && path == "/announce" {
			t.Fatalf("announce %q answered %q without a failure reason", query, rec.Body.Bytes())
		}
		if swarms, peers, _ := srv.reg.counts(); swarms != 0 || peers != 0 {
			t.Fatalf("%s?%s created state: %d swarms, %d peers", path, query, swarms, peers)
		}
	})
}
