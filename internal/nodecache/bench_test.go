package nodecache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// BenchmarkAcquireDirectoryHit is the cost of a hit on a directory of 20000 small files in 100
// directories: the record read and every file's identity compared, the tree's shape walked.
//
//	go test -run '^$' -bench AcquireDirectoryHit -benchtime 5x ./internal/nodecache
func BenchmarkAcquireDirectoryHit(b *testing.B) {
	c, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	content := Content{Name: "dataset", PieceLength: 16 << 10}
	content.InfoHash[0] = 1
	for i := range 20000 {
		content.Files = append(content.Files, File{Path: fmt.Sprintf("part-%03d/file-%05d.bin", i%100, i), Length: 1})
		content.Size++
	}
	e, err := c.Acquire(context.Background(), quiet, content)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range content.Files {
		p := filepath.Join(e.Path(), filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := e.Finish(Name{Namespace: "ns", Swarm: "bench"}, ""); err != nil {
		b.Fatal(err)
	}
	_ = e.Close()
	for b.Loop() {
		e, err := c.Acquire(context.Background(), quiet, content)
		if err != nil || !e.Hit() {
			b.Fatalf("not a hit: %v", err)
		}
		_ = e.Close()
	}
}
