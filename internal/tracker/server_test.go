package tracker

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/tracker/client"
)

// startTracker serves a tracker on a real 127.0.0.1 listener and returns it with a client.
// (Tests outside this package use trackertest, which imports this package: its own tests cannot.)
func startTracker(t *testing.T, cfg Config) (*Server, *client.Client, *httptest.Server) {
	t.Helper()
	srv := NewServer(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, client.NewClient(hs.URL), hs
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

func TestHealthAndMetricsEndpoints(t *testing.T) {
	ctx := context.Background()
	_, c, hs := startTracker(t, Config{})
	if _, err := c.Announce(ctx, client.AnnounceRequest{InfoHash: id20(1), PeerID: id20(2), Port: 7000, Left: 100, Event: "started"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Scrape(ctx); err != nil {
		t.Fatal(err)
	}
	if body := httpGet(t, hs.URL+"/healthz"); body != "ok\n" {
		t.Fatalf("/healthz %q", body)
	}
	body := httpGet(t, hs.URL+"/metrics")
	for _, want := range []string{
		`minibit_tracker_announces_total{event="started",result="ok"} 1`,
		"minibit_tracker_swarms 1", "minibit_tracker_peers 1", "minibit_tracker_leechers 1",
		"minibit_tracker_seeders 0", "minibit_tracker_scrape_requests_total 1",
		`minibit_tracker_request_duration_seconds_count{handler="announce"} 1`,
		"minibit_tracker_peers_reaped_total 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// httpGet returns the body of a GET that must answer 200.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return string(body)
}

// A v2-aware client (libtorrent) announces a hybrid torrent under its v1 info-hash and under
// its truncated v2 info-hash: once the torrent is stored, both reach the same swarm.
func TestHybridTorrentIsOneSwarmUnderBothHashes(t *testing.T) {
	ctx := context.Background()
	_, c, hs := startTracker(t, Config{})
	m, torrent := makeTorrent(t, 300<<10, 1, hs.URL+"/announce")
	if err := c.PublishTorrent(ctx, "demo", torrent); err != nil {
		t.Fatalf("publish: %v", err)
	}
	v1, v2 := m.InfoHashV1(), m.InfoHashV2()
	alias := [20]byte(v2[:20])

	if _, err := c.Announce(ctx, client.AnnounceRequest{InfoHash: v1, PeerID: id20('S'), Port: 7001, Event: "started"}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Announce(ctx, client.AnnounceRequest{InfoHash: alias, PeerID: id20('L'), Port: 7002,
		Left: m.Info.Length, Event: "started", NumWant: 5})
	if err != nil {
		t.Fatal(err)
	}
	assertPeers(t, resp.Peers, "127.0.0.1:7001")

	stats, err := c.Scrape(ctx, alias)
	if err != nil {
		t.Fatal(err)
	}
	if got := stats[alias]; got.Complete != 1 || got.Incomplete != 1 {
		t.Fatalf("scrape under the v2 hash: %+v, want 1 seeder and 1 leecher", stats)
	}
	list, err := c.Swarms(ctx)
	if err != nil || len(list.Swarms) != 1 || list.Swarms[0].Leechers != 1 {
		t.Fatalf("swarm list %+v, %v: want one swarm holding both peers", list, err)
	}
}
