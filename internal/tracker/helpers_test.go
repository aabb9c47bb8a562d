package tracker

import (
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"

	"github.com/minibit-io/minibit/internal/tracker/protocol"
)

// fakeClock is a settable clock for Config.Now; safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// id20 is a 20-byte id made of one repeated byte.
func id20(b byte) [20]byte {
	var id [20]byte
	for i := range id {
		id[i] = b
	}
	return id
}

// announceValues are the query parameters of a valid announce; tests change them.
func announceValues(infoHash, peerID [20]byte, port int) url.Values {
	return url.Values{
		"info_hash":  {string(infoHash[:])},
		"peer_id":    {string(peerID[:])},
		"port":       {strconv.Itoa(port)},
		"uploaded":   {"0"},
		"downloaded": {"0"},
		"left":       {"1000"},
	}
}

// serve sends GET path?query from remote (an "ip:port") to srv and returns the recorder.
func serve(t testing.TB, srv http.Handler, path string, query url.Values, remote string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path+"?"+query.Encode(), nil)
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

// announceAs announces peerID of infoHash from remote with extra parameters set over the valid
// defaults, and decodes the answer with the client's decoder.
func announceAs(t testing.TB, srv http.Handler, infoHash, peerID [20]byte, remote string, port int, set map[string]string) (protocol.AnnounceResponse, error) {
	t.Helper()
	q := announceValues(infoHash, peerID, port)
	for k, v := range set {
		q.Set(k, v)
	}
	rec := serve(t, srv, "/announce", q, remote)
	if rec.Code != http.StatusOK {
		t.Fatalf("announce answered HTTP %d, want 200", rec.Code)
	}
	return protocol.DecodeAnnounce(rec.Body.Bytes())
}

// mustAnnounce is announceAs for announces that must succeed.
func mustAnnounce(t testing.TB, srv http.Handler, infoHash, peerID [20]byte, remote string, port int, set map[string]string) protocol.AnnounceResponse {
	t.Helper()
	resp, err := announceAs(t, srv, infoHash, peerID, remote, port, set)
	if err != nil {
		t.Fatalf("announce of %x: %v", peerID, err)
	}
	return resp
}

// decodeDict decodes a bencoded dictionary, failing the test when it is not one.
func decodeDict(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var d map[string]any
	if err := bencode.Unmarshal(body, &d); err != nil {
		t.Fatalf("answer %q is not a bencoded dictionary: %v", body, err)
	}
	return d
}

// hexHash is the hex form of an info-hash, as the JSON API takes it.
func hexHash(h [20]byte) string { return hex.EncodeToString(h[:]) }
