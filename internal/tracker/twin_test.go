package tracker

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/client"
)

// The v1 twin's store: a seeder publishes the twin of the swarm's stored torrent; the tracker
// stores only the twin it derives itself, admits announces under its info-hash in
// registered-only mode, and serves it at both of its URLs.
func TestTwinIsStoredBesideItsTorrent(t *testing.T) {
	ctx := context.Background()
	_, c, hs := startTracker(t, Config{RegisteredOnly: true})
	m, data := makeTorrent(t, 300<<10, 1, "")
	twin, twinHash, err := m.EncodeV1Twin()
	if err != nil {
		t.Fatal(err)
	}
	announce := client.AnnounceRequest{InfoHash: twinHash, PeerID: id20('A'), Port: 7001, Left: 1, Event: "started"}
	if err := c.PublishTwin(ctx, "demo", twin); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("a twin published before its torrent: %v, want ErrNotFound", err)
	}
	if _, err := c.Announce(ctx, announce); err == nil {
		t.Fatal("an announce under an unpublished twin was accepted")
	}
	if err := c.PublishTorrent(ctx, "demo", data); err != nil {
		t.Fatal(err)
	}
	if err := c.PublishTwin(ctx, "demo", twin); err != nil {
		t.Fatalf("publishing the twin: %v", err)
	}
	if err := c.PublishTwin(ctx, "demo", twin); err != nil {
		t.Fatalf("publishing the twin again: %v", err)
	}
	for _, path := range []string{client.TwinPath("demo"), api.TorrentPathPrefix + "demo" + api.TwinNameSuffix} {
		if got := httpGet(t, hs.URL+path); got != string(twin) {
			t.Fatalf("GET %s: %d bytes, not the twin's %d", path, len(got), len(twin))
		}
	}
	resp, err := c.Announce(ctx, announce)
	if err != nil || resp.Incomplete != 1 {
		t.Fatalf("an announce under the published twin: %+v, %v", resp, err)
	}
	sw, err := c.Swarm(ctx, "demo"+api.TwinNameSuffix)
	if err != nil || sw.InfoHash != hexHash(twinHash) || sw.Pieces != m.NumPieces() {
		t.Fatalf("the twin's swarm: %+v, %v", sw.SwarmSummary, err)
	}
}

// Only the twin of the stored torrent is stored: another torrent (the hybrid itself, another
// payload's twin, garbage) is refused and changes nothing, and so is a twin without the publish
// token.
func TestOnlyTheDerivedTwinIsStored(t *testing.T) {
	ctx := context.Background()
	srv, c, _ := startTracker(t, Config{PublishToken: testToken})
	c.PublishToken = testToken
	m, data := makeTorrent(t, 300<<10, 1, "")
	other, _ := makeTorrent(t, 300<<10, 2, "")
	otherTwin, _, _ := other.EncodeV1Twin()
	twin, _, _ := m.EncodeV1Twin()
	if err := c.PublishTorrent(ctx, "demo", data); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"the hybrid": data, "another twin": otherTwin, "garbage": []byte("d4:spam")} {
		err := c.PublishTwin(ctx, "demo", body)
		if err == nil || !strings.Contains(err.Error(), "HTTP 400") {
			t.Errorf("%s as the twin: %v, want HTTP 400", name, err)
		}
	}
	anonymous := client.NewClient(c.BaseURL)
	if err := anonymous.PublishTwin(ctx, "demo", twin); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("a twin without the token: %v, want ErrUnauthorized", err)
	}
	if _, err := c.FetchTwin(ctx, "demo"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("a refused twin is served: %v", err)
	}
	if swarms, _, _ := srv.reg.counts(); swarms != 1 {
		t.Fatalf("%d swarms after refused twins, want the torrent's 1", swarms)
	}
	if err := c.PublishTwin(ctx, "demo", twin); err != nil {
		t.Fatal(err)
	}
	if err := c.PublishTwin(ctx, "demo", otherTwin); !errors.Is(err, client.ErrConflict) {
		t.Errorf("another twin over a stored one: %v, want ErrConflict", err)
	}
}
