package hostile_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/tracker"
	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// The publish tests play the intruder of the issue against a real tracker on 127.0.0.1: a pod
// that stores its own torrent under a swarm's name, and one that forges announces in another
// peer's name. The honest seeder and leecher are on 127.0.0.1, the intruder on 127.0.0.2.

// publishSecret is the swarm's publish token (the operator's Secret <swarm>-publish).
const publishSecret = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

// publishHTTP is an HTTP client whose connections come from the loopback address from.
func publishHTTP(from netip.Addr) *http.Client {
	d := &net.Dialer{Timeout: Timeout, LocalAddr: &net.TCPAddr{IP: from.AsSlice()}}
	return &http.Client{Timeout: Timeout, Transport: &http.Transport{DialContext: d.DialContext}}
}

// publishClient is a tracker client at base whose requests come from the loopback address from.
func publishClient(base string, from netip.Addr, token string) *client.Client {
	c := client.NewClient(base)
	c.HTTP, c.PublishToken = publishHTTP(from), token
	return c
}

// publishRefusals sums minibit_tracker_torrent_uploads_refused_total over its reasons.
func publishRefusals(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range fams {
		if f.GetName() == "minibit_tracker_torrent_uploads_refused_total" {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestPublishWithoutTheSecretIsRefused: a tracker started as the operator starts it (a publish
// secret, registered torrents only). The intruder tries first, without the secret and with a
// guessed one: refused (401), nothing stored, its info-hash not tracked. The seeder holding the
// secret then publishes the swarm's torrent, and every peer fetches that one.
func TestPublishWithoutTheSecretIsRefused(t *testing.T) {
	RequireLoopback(t, IP(2))
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	reg := prometheus.NewRegistry()
	base := trackertest.Start(t, trackertest.WithConfig(tracker.Config{PublishToken: publishSecret, RegisteredOnly: true, Registerer: reg}),
		trackertest.WithHeartbeat(time.Second)).URL
	real, realData := trackertest.Torrent(t, 512<<10, 1)
	fake, fakeData := trackertest.Torrent(t, 512<<10, 666)

	for _, token := range []string{"", "guess", publishSecret[:len(publishSecret)-1]} {
		intruder := publishClient(base, IP(2), token)
		if err := intruder.PublishTorrent(ctx, "demo", fakeData); !errors.Is(err, client.ErrUnauthorized) {
			t.Fatalf("intruder's upload with token %q: %v, want 401", token, err)
		}
	}
	if got := publishRefusals(t, reg); got != 3 {
		t.Errorf("refused uploads metric %v, want 3", got)
	}
	intruder := publishClient(base, IP(2), "")
	_, err := intruder.Announce(ctx, client.AnnounceRequest{InfoHash: fake.InfoHashV1(), PeerID: PeerID("intrude", 1), Port: 6881, Event: "started"})
	if failure, ok := errors.AsType[*client.FailureError](err); !ok || failure.Reason != "unregistered torrent" {
		t.Fatalf("intruder's announce of its own torrent: %v, want failure reason \"unregistered torrent\"", err)
	}
	if list, err := intruder.Swarms(ctx); err != nil || len(list.Swarms) != 0 {
		t.Fatalf("after the intruder: swarms %+v (%v), want none", list.Swarms, err)
	}

	seeder := publishClient(base, IP(1), publishSecret)
	if err := seeder.PublishTorrent(ctx, "demo", realData); err != nil {
		t.Fatalf("the seeder's publish after the intruder's attempts: %v", err)
	}
	if err := intruder.PublishTorrent(ctx, "demo", fakeData); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("intruder's upload after the seeder's: %v, want 401", err)
	}
	if err := seeder.PublishTorrent(ctx, "demo", realData); err != nil {
		t.Fatalf("the seeder's heartbeat republish: %v", err)
	}
	leecher := publishClient(base, IP(1), "")
	data, err := leecher.FetchTorrent(ctx, "demo")
	if err != nil || !bytes.Equal(data, realData) {
		t.Fatalf("the leecher fetched %d bytes (%v), want the seeder's torrent", len(data), err)
	}
	if _, err := leecher.Announce(ctx, client.AnnounceRequest{InfoHash: real.InfoHashV1(), PeerID: PeerID("leech", 1), Port: 6882, Left: 1, Event: "started"}); err != nil {
		t.Fatalf("announce of the registered torrent: %v", err)
	}
}

// TestPublishPinnedLeecherRefusesAnotherTorrent: on a tracker without a secret (started by hand,
// as in the issue), the intruder stores its torrent first and the seeder gets 409. An unpinned
// leecher would take the intruder's torrent; a leecher pinned to the swarm's info-hash (peer get
// --info-hash, the operator's status.infoHash) refuses it.
func TestPublishPinnedLeecherRefusesAnotherTorrent(t *testing.T) {
	RequireLoopback(t, IP(2))
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	base := trackertest.Start(t, trackertest.WithHeartbeat(time.Second)).URL
	real, realData := trackertest.Torrent(t, 512<<10, 1)
	fake, fakeData := trackertest.Torrent(t, 512<<10, 666)
	if err := publishClient(base, IP(2), "").PublishTorrent(ctx, "demo", fakeData); err != nil {
		t.Fatalf("the intruder's upload to an open tracker: %v", err)
	}
	if err := publishClient(base, IP(1), "").PublishTorrent(ctx, "demo", realData); !errors.Is(err, client.ErrConflict) {
		t.Fatalf("the seeder's publish after the intruder: %v, want 409", err)
	}

	data, err := publishClient(base, IP(1), "").FetchTorrent(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	meta, err := metainfo.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if meta.InfoHashV1() != fake.InfoHashV1() {
		t.Fatal("the tracker does not hold the intruder's torrent: the attack this test defends against did not happen")
	}
	err = client.CheckPin(meta, real.InfoHashV1())
	if !errors.Is(err, client.ErrWrongTorrent) {
		t.Fatalf("pinned leecher: %v, want ErrWrongTorrent", err)
	}
	t.Logf("pinned leecher: %v", err)
}

// TestPublishForgedAnnouncesChangeNothing: the forged announces. From 127.0.0.2, with a
// live leecher's peer id: "stopped", "completed" with left=0, a heartbeat with left=0 and the
// leecher's pod name are all refused with a failure reason, and the JSON API still shows the
// leecher as it announced itself, at its own IP. A forged announce under a new peer id naming
// the pod (with an "ip" parameter) is listed at the intruder's IP, which the operator does not
// take for the pod's.
func TestPublishForgedAnnouncesChangeNothing(t *testing.T) {
	RequireLoopback(t, IP(2))
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	base := trackertest.Start(t, trackertest.WithHeartbeat(time.Second)).URL
	hash := [20]byte{1, 2, 3}
	victim := client.AnnounceRequest{InfoHash: hash, PeerID: PeerID("victim", 1), Port: 6881, Left: 1000,
		Downloaded: 24, Event: "started", Name: "swarm-peer-0"}
	if _, err := publishClient(base, IP(1), "").Announce(ctx, victim); err != nil {
		t.Fatal(err)
	}
	before := publishPeers(t, base, hash)

	intruder := publishClient(base, IP(2), "")
	for _, forged := range []client.AnnounceRequest{
		{Event: "stopped"},
		{Event: "completed", Left: 0, Name: "swarm-peer-0"},
		{Left: 0, Downloaded: 1024, Name: "swarm-peer-0"},
	} {
		forged.InfoHash, forged.PeerID, forged.Port = hash, victim.PeerID, 7000
		_, err := intruder.Announce(ctx, forged)
		if _, refused := errors.AsType[*client.FailureError](err); !refused {
			t.Fatalf("forged %q announce: %v, want a failure reason", forged.Event, err)
		}
	}
	after := publishPeers(t, base, hash)
	if len(after) != 1 || after[0].PeerID != before[0].PeerID || after[0].Left != 1000 || after[0].IP != "127.0.0.1" ||
		after[0].Port != 6881 || after[0].CompletedAt != nil || !after[0].LastSeen.Equal(before[0].LastSeen) {
		t.Fatalf("the forged announces changed the victim: before %+v, after %+v", before, after)
	}

	q := url.Values{"info_hash": {string(hash[:])}, "peer_id": {string(publishID(2))}, "port": {"7000"},
		"uploaded": {"0"}, "downloaded": {"0"}, "left": {"0"}, "event": {"completed"},
		"name": {"swarm-peer-0"}, "ip": {"127.0.0.1"}}
	resp, err := publishHTTP(IP(2)).Get(base + "/announce?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	peers := publishPeers(t, base, hash)
	if len(peers) != 2 {
		t.Fatalf("peers %+v, want the victim and the forged one", peers)
	}
	for _, p := range peers {
		if p.PeerID != before[0].PeerID && p.IP != "127.0.0.2" {
			t.Fatalf("a forged peer naming the pod is listed at %s, want the intruder's own 127.0.0.2", p.IP)
		}
	}
}

// publishPeers lists the live peers of the swarm hash.
func publishPeers(t *testing.T, base string, hash [20]byte) []api.Peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	sw, err := publishClient(base, IP(1), "").Swarm(ctx, hex.EncodeToString(hash[:]))
	if err != nil {
		t.Fatal(err)
	}
	return sw.Peers
}

// publishID is a second recognisable peer id.
func publishID(n int) []byte {
	id := PeerID("forged", n)
	return id[:]
}
