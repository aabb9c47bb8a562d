package tracker

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/anacrolix/torrent/bencode"
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
			if _, err := decodeAnnounce(rec.Body.Bytes()); err != nil {
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
