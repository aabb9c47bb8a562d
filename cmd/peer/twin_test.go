package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/tracker"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// seed --v1-twin publishes the swarm's v1 twin beside its torrent (at the tracker's
// .../v1-twin, which a registered-only tracker then tracks) and writes --v1-twin-file; the
// twin is the published torrent's own.
func TestSeedPublishesTheV1Twin(t *testing.T) {
	tr := trackertest.Start(t, trackertest.WithConfig(tracker.Config{RegisteredOnly: true}))
	dir := t.TempDir()
	file, twinFile := filepath.Join(dir, "seed.bin"), filepath.Join(dir, "seed.v1.torrent")
	if err := generate.WriteFile(file, 7, 1<<20); err != nil {
		t.Fatal(err)
	}
	args := []string{"--file", file, "--tracker", tr.URL, "--swarm", "demo", "--v1-twin",
		"--v1-twin-file", twinFile, "--listen", "127.0.0.1:0", "--metrics-addr", "", "--piece-size", "64KiB"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seedErr := make(chan error, 1)
	go func() { seedErr <- runSeed(ctx, args) }()
	tc := client.NewClient(tr.URL)
	var twin []byte
	deadline := time.Now().Add(60 * time.Second)
	for {
		var err error
		if twin, err = tc.FetchTwin(ctx, "demo"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the seeder never published the twin: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	data, err := tc.FetchTorrent(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	meta, err := metainfo.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := meta.EncodeV1Twin()
	if err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(twinFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(twin, want) || !bytes.Equal(written, want) {
		t.Fatalf("published twin %d bytes, --v1-twin-file %d bytes: want the torrent's twin, %d bytes", len(twin), len(written), len(want))
	}
	cancel()
	if err := <-seedErr; err != nil {
		t.Fatalf("seeder: %v", err)
	}
}
