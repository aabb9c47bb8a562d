package nodecache

import (
	"context"
	"os"
	"testing"

	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/peer/peertest"
)

// BenchmarkStart compares the start of a node's peer on a verified 256 MiB copy: a cache hit
// (the record matches: no hashing) against a full verification (what a changed file costs).
//
//	go test -run '^$' -bench Start -benchtime 3x ./internal/nodecache
func BenchmarkStart(b *testing.B) {
	file, meta := peertest.Torrent(b, 256<<20, 256<<10)
	c, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	e, err := c.Acquire(context.Background(), quiet, ContentOf(meta))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(file, e.Path()); err != nil {
		b.Fatal(err)
	}
	if err := e.Finish(Name{Namespace: "ns", Swarm: "bench"}, ""); err != nil {
		b.Fatal(err)
	}
	_ = e.Close()
	for _, mode := range []struct {
		name string
		hit  bool
	}{{"hit", true}, {"full-verify", false}} {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				e, err := c.Acquire(context.Background(), quiet, ContentOf(meta))
				if err != nil || !e.Hit() {
					b.Fatalf("not a hit: %v", err)
				}
				cfg := sessionConfig(meta, e.Path())
				cfg.Seed, cfg.Trusted = true, mode.hit
				s, err := peer.New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				_ = s.Close()
				_ = e.Close()
			}
		})
	}
}
