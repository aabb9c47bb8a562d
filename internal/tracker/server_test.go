package tracker

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// startTracker serves a tracker on a real 127.0.0.1 listener and returns it with a client.
func startTracker(t *testing.T, cfg Config) (*Server, *Client, *httptest.Server) {
	t.Helper()
	srv := NewServer(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, NewClient(hs.URL), hs
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

func TestClientAgainstRealServer(t *testing.T) {
	ctx := context.Background()
	_, client, hs := startTracker(t, Config{})
	m, torrent := makeTorrent(t, 300<<10, 1, hs.URL+"/announce")
	hash := m.InfoHashV1()

	if err := client.PublishTorrent(ctx, "demo", torrent); err != nil {
		t.Fatalf("publish: %v", err)
	}
	fetched, err := client.FetchTorrent(ctx, "demo")
	if err != nil || !bytes.Equal(fetched, torrent) {
		t.Fatalf("fetch: %v (%d bytes, want the %d published)", err, len(fetched), len(torrent))
	}

	seeder := AnnounceRequest{InfoHash: hash, PeerID: id20('S'), Port: 7001, Event: "started", Name: "seeder-0"}
	leecher1 := AnnounceRequest{InfoHash: hash, PeerID: id20('A'), Port: 7002, Left: m.Info.Length, Event: "started", Name: "leecher-1"}
	leecher2 := AnnounceRequest{InfoHash: hash, PeerID: id20('B'), Port: 7003, Left: m.Info.Length / 4,
		Downloaded: m.Info.Length * 3 / 4, Event: "started", Name: "leecher-2"}
	for _, req := range []AnnounceRequest{seeder, leecher1} {
		if _, err := client.Announce(ctx, req); err != nil {
			t.Fatalf("announce %s: %v", req.Name, err)
		}
	}
	resp, err := client.Announce(ctx, leecher2)
	if err != nil {
		t.Fatal(err)
	}
	assertPeers(t, resp.Peers, "127.0.0.1:7001", "127.0.0.1:7002")
	if resp.Complete != 1 || resp.Incomplete != 2 || resp.Interval != DefaultInterval {
		t.Fatalf("answer %+v, want 1 seeder, 2 leechers, interval 30s", resp)
	}

	stats, err := client.Scrape(ctx, hash, id20(0xEE))
	if err != nil {
		t.Fatal(err)
	}
	want := ScrapeStats{Complete: 1, Incomplete: 2, Downloaded: 0, Name: "demo"}
	if len(stats) != 1 || stats[hash] != want {
		t.Fatalf("scrape %+v, want only %x: %+v", stats, hash, want)
	}
	all, err := client.Scrape(ctx)
	if err != nil || all[hash] != want {
		t.Fatalf("full scrape %+v, %v", all, err)
	}

	for _, key := range []string{"demo", hex.EncodeToString(hash[:])} {
		swarm, err := client.Swarm(ctx, key)
		if err != nil {
			t.Fatalf("swarm %q: %v", key, err)
		}
		if swarm.Name != "demo" || swarm.Length != m.Info.Length || swarm.Pieces != m.NumPieces() ||
			swarm.PieceLength != 64<<10 || swarm.Seeders != 1 || swarm.Leechers != 2 || len(swarm.Peers) != 3 {
			t.Fatalf("swarm %q: %+v", key, swarm)
		}
		if swarm.Peers[0].Name != "leecher-1" || swarm.Peers[1].Name != "leecher-2" || swarm.Peers[2].Name != "seeder-0" {
			t.Fatalf("peers not sorted by peer id: %+v", swarm.Peers)
		}
		if p := swarm.Peers[1]; p.Progress != 0.75 || p.IP != "127.0.0.1" || p.Port != 7003 {
			t.Fatalf("leecher-2 %+v, want progress 0.75 at 127.0.0.1:7003", p)
		}
		if swarm.Progress != 0.375 { // the leechers' mean; the initial seeder does not count
			t.Fatalf("swarm progress %v, want 0.375", swarm.Progress)
		}
	}
	list, err := client.Swarms(ctx)
	if err != nil || len(list.Swarms) != 1 || list.Swarms[0].Name != "demo" {
		t.Fatalf("swarm list %+v, %v", list, err)
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	_, client, hs := startTracker(t, Config{MaxTorrentBytes: 64 << 10})
	_, torrent := makeTorrent(t, 100<<10, 1, hs.URL+"/announce")
	_, other := makeTorrent(t, 100<<10, 2, hs.URL+"/announce")

	if _, err := client.Swarm(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown swarm: %v, want ErrNotFound", err)
	}
	if _, err := client.FetchTorrent(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown torrent: %v, want ErrNotFound", err)
	}
	if err := client.PublishTorrent(ctx, "demo", torrent); err != nil {
		t.Fatal(err)
	}
	if err := client.PublishTorrent(ctx, "demo", torrent); err != nil {
		t.Fatalf("publishing the same torrent again: %v, want success", err)
	}
	if err := client.PublishTorrent(ctx, "demo", other); !errors.Is(err, ErrConflict) {
		t.Fatalf("another torrent under a taken name: %v, want ErrConflict", err)
	}
	if err := client.PublishTorrent(ctx, "copy", torrent); !errors.Is(err, ErrConflict) {
		t.Fatalf("the same torrent under a second name: %v, want ErrConflict", err)
	}
	if err := client.PublishTorrent(ctx, "junk", []byte("d3:foo3:bare")); err == nil || !strings.Contains(err.Error(), "not a valid .torrent") {
		t.Fatalf("junk: %v, want a 400 naming the problem", err)
	}
	if err := client.PublishTorrent(ctx, "huge", make([]byte, 65<<10)); err == nil || !strings.Contains(err.Error(), "413") {
		t.Fatalf("oversized: %v, want HTTP 413", err)
	}
	if err := client.PublishTorrent(ctx, "bad name!", torrent); err == nil || !strings.Contains(err.Error(), "torrent name") {
		t.Fatalf("bad name: %v, want a 400 naming the problem", err)
	}
	_, err := client.Announce(ctx, AnnounceRequest{InfoHash: id20(1), PeerID: id20(2), Port: 0})
	if f, ok := errors.AsType[*FailureError](err); !ok || !strings.Contains(f.Reason, "port") {
		t.Fatalf("port 0: %v, want a *FailureError about the port", err)
	}
}

func TestHealthAndMetricsEndpoints(t *testing.T) {
	ctx := context.Background()
	_, client, hs := startTracker(t, Config{})
	if _, err := client.Announce(ctx, AnnounceRequest{InfoHash: id20(1), PeerID: id20(2), Port: 7000, Left: 100, Event: "started"}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Scrape(ctx); err != nil {
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

func TestClientTimesOut(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	client := &Client{BaseURL: hang.URL, HTTP: &http.Client{Timeout: 100 * time.Millisecond}}
	start := time.Now()
	_, err := client.Announce(context.Background(), AnnounceRequest{Port: 1})
	if err == nil {
		t.Fatal("announce to a silent tracker succeeded")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("announce took %v despite a 100 ms timeout", elapsed)
	}
}

func TestClientParsesAnnounceURLAndEscapesBinary(t *testing.T) {
	if got := (&Client{BaseURL: "http://t:8080/announce"}).base(); got != "http://t:8080" {
		t.Fatalf("base of an announce URL: %q", got)
	}
	if got := escapeBinary([]byte{' ', '+', 'a', 0xff, '~'}); got != "%20%2Ba%FF~" {
		t.Fatalf("escapeBinary = %q", got)
	}
	req := AnnounceRequest{InfoHash: id20(' '), PeerID: id20('+'), Port: 1}
	parsed, err := (&Server{cfg: Config{}.withDefaults()}).parseAnnounce(
		httptest.NewRequest(http.MethodGet, "/announce?"+announceQuery(&req), nil))
	if err != nil || parsed.infoHash != req.InfoHash || parsed.peerID != req.PeerID {
		t.Fatalf("the server read %x/%x (%v), want what the client sent", parsed.infoHash, parsed.peerID, err)
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
	_, client, hs := startTracker(t, Config{})
	m, torrent := makeTorrent(t, 300<<10, 1, hs.URL+"/announce")
	if err := client.PublishTorrent(ctx, "demo", torrent); err != nil {
		t.Fatalf("publish: %v", err)
	}
	v1, v2 := m.InfoHashV1(), m.InfoHashV2()
	alias := [20]byte(v2[:20])

	if _, err := client.Announce(ctx, AnnounceRequest{InfoHash: v1, PeerID: id20('S'), Port: 7001, Event: "started"}); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Announce(ctx, AnnounceRequest{InfoHash: alias, PeerID: id20('L'), Port: 7002,
		Left: m.Info.Length, Event: "started", NumWant: 5})
	if err != nil {
		t.Fatal(err)
	}
	assertPeers(t, resp.Peers, "127.0.0.1:7001")

	stats, err := client.Scrape(ctx, alias)
	if err != nil {
		t.Fatal(err)
	}
	if got := stats[alias]; got.Complete != 1 || got.Incomplete != 1 {
		t.Fatalf("scrape under the v2 hash: %+v, want 1 seeder and 1 leecher", stats)
	}
	list, err := client.Swarms(ctx)
	if err != nil || len(list.Swarms) != 1 || list.Swarms[0].Leechers != 1 {
		t.Fatalf("swarm list %+v, %v: want one swarm holding both peers", list, err)
	}
}

// A tracker restarted without its state learns a swarm's name again from KeepPublished.
func TestKeepPublishedRestoresTheTorrentAfterATrackerRestart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var current atomic.Pointer[Server]
	current.Store(NewServer(Config{}))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		current.Load().ServeHTTP(w, r)
	}))
	defer hs.Close()
	client := NewClient(hs.URL)
	_, torrent := makeTorrent(t, 100<<10, 2, hs.URL+"/announce")
	go client.KeepPublished(ctx, "demo", torrent, 10*time.Millisecond, slog.New(slog.DiscardHandler))

	// A new, empty tracker behind the same URL: the swarm's name comes back.
	current.Store(NewServer(Config{}))
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := client.FetchTorrent(ctx, "demo")
		if err == nil {
			if !bytes.Equal(got, torrent) {
				t.Fatal("the tracker holds other bytes than the published torrent")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the torrent was not published again: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
