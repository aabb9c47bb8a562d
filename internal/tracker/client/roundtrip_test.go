package client_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/minibit-io/minibit/internal/tracker"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// These tests run the client against the real tracker: what one writes, the other reads.

func TestClientAgainstRealServer(t *testing.T) {
	ctx := context.Background()
	tr := trackertest.Start(t)
	c := tr.Client
	m, torrent := trackertest.Torrent(t, 300<<10, 1)
	hash := m.InfoHashV1()

	if err := c.PublishTorrent(ctx, "demo", torrent); err != nil {
		t.Fatalf("publish: %v", err)
	}
	fetched, err := c.FetchTorrent(ctx, "demo")
	if err != nil || !bytes.Equal(fetched, torrent) {
		t.Fatalf("fetch: %v (%d bytes, want the %d published)", err, len(fetched), len(torrent))
	}

	seeder := client.AnnounceRequest{InfoHash: hash, PeerID: id20('S'), Port: 7001, Event: "started", Name: "seeder-0"}
	leecher1 := client.AnnounceRequest{InfoHash: hash, PeerID: id20('A'), Port: 7002, Left: m.Info.Length, Event: "started", Name: "leecher-1"}
	leecher2 := client.AnnounceRequest{InfoHash: hash, PeerID: id20('B'), Port: 7003, Left: m.Info.Length / 4,
		Downloaded: m.Info.Length * 3 / 4, Event: "started", Name: "leecher-2"}
	for _, req := range []client.AnnounceRequest{seeder, leecher1} {
		if _, err := c.Announce(ctx, req); err != nil {
			t.Fatalf("announce %s: %v", req.Name, err)
		}
	}
	resp, err := c.Announce(ctx, leecher2)
	if err != nil {
		t.Fatal(err)
	}
	assertPeers(t, resp.Peers, "127.0.0.1:7001", "127.0.0.1:7002")
	if resp.Complete != 1 || resp.Incomplete != 2 || resp.Interval != tracker.DefaultInterval {
		t.Fatalf("answer %+v, want 1 seeder, 2 leechers, interval 30s", resp)
	}

	stats, err := c.Scrape(ctx, hash, id20(0xEE))
	if err != nil {
		t.Fatal(err)
	}
	want := map[[20]byte]client.ScrapeStats{hash: {Complete: 1, Incomplete: 2, Downloaded: 0, Name: "demo"}}
	if diff := cmp.Diff(want, stats); diff != "" {
		t.Fatalf("scrape mismatch, want only %x (-want +got):\n%s", hash, diff)
	}
	all, err := c.Scrape(ctx)
	if err != nil {
		t.Fatalf("full scrape: %v", err)
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Fatalf("full scrape mismatch (-want +got):\n%s", diff)
	}

	for _, key := range []string{"demo", hex.EncodeToString(hash[:])} {
		swarm, err := c.Swarm(ctx, key)
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
	list, err := c.Swarms(ctx)
	if err != nil || len(list.Swarms) != 1 || list.Swarms[0].Name != "demo" {
		t.Fatalf("swarm list %+v, %v", list, err)
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	tr := trackertest.Start(t, trackertest.WithConfig(tracker.Config{MaxTorrentBytes: 64 << 10}))
	c := tr.Client
	_, torrent := trackertest.Torrent(t, 100<<10, 1)
	_, other := trackertest.Torrent(t, 100<<10, 2)

	if _, err := c.Swarm(ctx, "nope"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("unknown swarm: %v, want ErrNotFound", err)
	}
	if _, err := c.FetchTorrent(ctx, "nope"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("unknown torrent: %v, want ErrNotFound", err)
	}
	if err := c.PublishTorrent(ctx, "demo", torrent); err != nil {
		t.Fatal(err)
	}
	if err := c.PublishTorrent(ctx, "demo", torrent); err != nil {
		t.Fatalf("publishing the same torrent again: %v, want success", err)
	}
	if err := c.PublishTorrent(ctx, "demo", other); !errors.Is(err, client.ErrConflict) {
		t.Fatalf("another torrent under a taken name: %v, want ErrConflict", err)
	}
	if err := c.PublishTorrent(ctx, "copy", torrent); !errors.Is(err, client.ErrConflict) {
		t.Fatalf("the same torrent under a second name: %v, want ErrConflict", err)
	}
	if err := c.PublishTorrent(ctx, "junk", []byte("d3:foo3:bare")); err == nil || !strings.Contains(err.Error(), "not a valid .torrent") {
		t.Fatalf("junk: %v, want a 400 naming the problem", err)
	}
	if err := c.PublishTorrent(ctx, "huge", make([]byte, 65<<10)); err == nil || !strings.Contains(err.Error(), "413") {
		t.Fatalf("oversized: %v, want HTTP 413", err)
	}
	if err := c.PublishTorrent(ctx, "bad name!", torrent); err == nil || !strings.Contains(err.Error(), "torrent name") {
		t.Fatalf("bad name: %v, want a 400 naming the problem", err)
	}
	_, err := c.Announce(ctx, client.AnnounceRequest{InfoHash: id20(1), PeerID: id20(2), Port: 0})
	if f, ok := errors.AsType[*client.FailureError](err); !ok || !strings.Contains(f.Reason, "port") {
		t.Fatalf("port 0: %v, want a *FailureError about the port", err)
	}
}

func TestClientTimesOut(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	c := &client.Client{BaseURL: hang.URL, HTTP: &http.Client{Timeout: 100 * time.Millisecond}}
	start := time.Now()
	_, err := c.Announce(context.Background(), client.AnnounceRequest{Port: 1})
	if err == nil {
		t.Fatal("announce to a silent tracker succeeded")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("announce took %v despite a 100 ms timeout", elapsed)
	}
}

// Binary ids with bytes that query encodings disagree on (a space, a "+") reach the tracker
// intact.
func TestTheTrackerReadsTheIDsTheClientSends(t *testing.T) {
	tr := trackertest.Start(t)
	req := client.AnnounceRequest{InfoHash: id20(' '), PeerID: id20('+'), Port: 7000, Left: 1}
	if _, err := tr.Client.Announce(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	sw, ok := tr.Server.Swarm(hex.EncodeToString(req.InfoHash[:]))
	if !ok || len(sw.Peers) != 1 || sw.Peers[0].PeerID != hex.EncodeToString(req.PeerID[:]) {
		t.Fatalf("the tracker holds %+v (found %v), want the peer %x in the swarm %x", sw, ok, req.PeerID, req.InfoHash)
	}
}

// A tracker restarted without its state learns a swarm's name again from KeepPublished.
func TestKeepPublishedRestoresTheTorrentAfterATrackerRestart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var current atomic.Pointer[tracker.Server]
	current.Store(tracker.NewServer(tracker.Config{}))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		current.Load().ServeHTTP(w, r)
	}))
	defer hs.Close()
	c := client.NewClient(hs.URL)
	_, torrent := trackertest.Torrent(t, 100<<10, 2)
	go c.KeepPublished(ctx, "demo", torrent, 10*time.Millisecond, slog.New(slog.DiscardHandler))

	// A new, empty tracker behind the same URL: the swarm's name comes back.
	current.Store(tracker.NewServer(tracker.Config{}))
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := c.FetchTorrent(ctx, "demo")
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

func TestClientSendsThePublishToken(t *testing.T) {
	const token = "s3cret-token_0123456789"
	ctx := context.Background()
	c := trackertest.Start(t, trackertest.WithConfig(tracker.Config{PublishToken: token})).Client
	_, data := trackertest.Torrent(t, 100<<10, 1)
	if err := c.PublishTorrent(ctx, "demo", data); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("publish without the token: %v, want ErrUnauthorized", err)
	}
	c.PublishToken = "wrong"
	if err := c.PublishTorrent(ctx, "demo", data); !errors.Is(err, client.ErrUnauthorized) || !strings.Contains(err.Error(), "wrong") {
		t.Fatalf("publish with a wrong token: %v, want ErrUnauthorized saying it is wrong", err)
	}
	c.PublishToken = token
	if err := c.PublishTorrent(ctx, "demo", data); err != nil {
		t.Fatalf("publish with the token: %v", err)
	}
}
