package dashboard_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/tracker"
	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
	"github.com/minibit-io/minibit/internal/wire"
)

// This file holds the test swarms: a real tracker on 127.0.0.1 with a stored torrent, and peers
// played by the tracker client's announces (their pieces, rates and health made up, their
// announces real).

// startTracker serves a tracker with a one-second heartbeat and runs its reaper.
func startTracker(t testing.TB) *trackertest.Tracker {
	t.Helper()
	return trackertest.Start(t, trackertest.WithConfig(tracker.Config{Interval: time.Second, Seed: 1}))
}

// publishTorrent writes a generated file of size bytes, makes its torrent with pieces of
// pieceLength bytes and stores it on the tracker under name. It returns the file and torrent.
func publishTorrent(t testing.TB, tr *trackertest.Tracker, name string, size, pieceLength int64) (string, *metainfo.MetaInfo) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".bin")
	if err := generate.WriteFile(path, 3, size); err != nil {
		t.Fatal(err)
	}
	meta, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: pieceLength, Announce: tr.AnnounceURL()})
	if err != nil {
		t.Fatal(err)
	}
	data, err := meta.Encode()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Client.PublishTorrent(ctx, name, data); err != nil {
		t.Fatal(err)
	}
	return path, meta
}

// playedPeer is one peer whose announces the test makes up.
type playedPeer struct {
	name     string
	id       [20]byte
	have     wire.Bitfield
	order    []int // the pieces in the order it gets them
	next     int
	perStep  int // pieces gained per step
	seeder   bool
	complete bool
}

// playedSwarm is a seeder and leechers played through the tracker client. Owner: step and
// announce run on one goroutine at a time (the test's, or play's).
type playedSwarm struct {
	client   *client.Client
	meta     *metainfo.MetaInfo
	infoHash [20]byte
	peers    []*playedPeer
	rng      *rand.Rand
}

// newPlayedSwarm makes one seeder and leechers peers of meta, each leecher with its own pace.
func newPlayedSwarm(trackerURL string, meta *metainfo.MetaInfo, leechers int) *playedSwarm {
	n := meta.NumPieces()
	s := &playedSwarm{client: client.NewClient(trackerURL), meta: meta, infoHash: meta.InfoHashV1(),
		rng: rand.New(rand.NewPCG(9, 9))}
	seed := &playedPeer{name: "seeder", have: wire.NewFullBitfield(n), seeder: true, complete: true}
	s.peers = append(s.peers, seed)
	for i := range leechers {
		p := &playedPeer{name: fmt.Sprintf("leecher-%03d", i+1), have: wire.NewBitfield(n),
			order: s.rng.Perm(n), perStep: max(1, n/(40+s.rng.IntN(80)))}
		s.peers = append(s.peers, p)
	}
	for i, p := range s.peers {
		copy(p.id[:], fmt.Sprintf("-PLAYED-%012d", i))
	}
	return s
}

// step gives every unfinished leecher its next pieces.
func (s *playedSwarm) step() {
	for _, p := range s.peers {
		for range p.perStep {
			if p.next < len(p.order) {
				p.have.Set(p.order[p.next])
				p.next++
			}
		}
	}
}

// announceAll announces every peer's state once; first is the "started" round.
func (s *playedSwarm) announceAll(ctx context.Context, first bool) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(s.peers))
	for i, p := range s.peers {
		req := s.request(i, p, first)
		wg.Go(func() {
			if _, err := s.client.Announce(ctx, req); err != nil {
				errs <- fmt.Errorf("%s: %w", p.name, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// request is p's announce: its totals from its bitfield, its bitfield, a made-up health, and
// "completed" once when it got the last piece.
func (s *playedSwarm) request(i int, p *playedPeer, first bool) client.AnnounceRequest {
	have := p.have.Count()
	pieceLen := s.meta.Info.PieceLength
	left := max(0, s.meta.Info.Length-int64(have)*pieceLen)
	if p.seeder {
		left = 0
	}
	req := client.AnnounceRequest{
		InfoHash: s.infoHash, PeerID: p.id, Port: 20000 + i, Name: p.name,
		Downloaded: int64(p.next) * pieceLen, Uploaded: int64(have) * pieceLen / 2, Left: left,
		Health: &api.PeerHealth{Connected: 5, ChokedBy: 2},
	}
	if !p.seeder {
		req.Bitfield = p.have
	}
	switch {
	case first:
		req.Event = "started"
	case left == 0 && !p.complete:
		req.Event, p.complete = "completed", true
	}
	return req
}

// play announces every peer at once, then steps and announces every period until ctx ends.
func (s *playedSwarm) play(ctx context.Context, t testing.TB, period time.Duration) {
	if err := s.announceAll(ctx, true); err != nil {
		t.Errorf("started announces: %v", err)
		return
	}
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		s.step()
		if err := s.announceAll(ctx, false); err != nil && ctx.Err() == nil {
			// A heartbeat that times out on a loaded machine is sent again next period, as a
			// peer's would be; the page is what the tests judge.
			t.Logf("announces (sent again next period): %v", err)
		}
	}
}

// artifactDir is where screenshots go: $ARTIFACTS, or bin/artifacts at the repository's root.
func artifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "bin", "artifacts")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
