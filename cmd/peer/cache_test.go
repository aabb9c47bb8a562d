package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/peer/peertest"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// get's cache flags: --dir or --cache-root with a checked --cache-name, never both; hostile
// names and roots are command line errors.
func TestGetCacheFlags(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	for _, args := range [][]string{
		{"--cache-name", "ns/s"},
		{"--dir", t.TempDir(), "--cache-root", root, "--cache-name", "ns/s"},
		{"--cache-root", "relative", "--cache-name", "ns/s"},
		{"--cache-root", root + "/../x", "--cache-name", "ns/s"},
		{"--cache-root", root},
		{"--cache-root", root, "--cache-name", "../x"},
		{"--cache-root", root, "--cache-name", "a/b/c"},
		{"--cache-root", root, "--cache-name", "/abs"},
		{"--cache-root", root, "--cache-name", "ns/" + strings.Repeat("s", 64)},
		{"--cache-root", root, "--cache-name", "ns/s", "--cache-retention", "-1s"},
	} {
		err := runGet(ctx, peerArgs(append([]string{"--torrent", "x.torrent"}, args...)...))
		if !errors.As(err, new(usageError)) {
			t.Errorf("get %v: %v, want a command line error", args, err)
		}
	}
	for _, args := range [][]string{
		{"cache-release", "--cache-root", root, "--cache-name", "../x"},
		{"cache-release", "--cache-root", "rel", "--cache-name", "ns/s"},
		{"cache-gc", "--cache-root", root + "/"},
		{"cache-prepare", "--cache-root", root},
		{"cache-prepare", "--cache-root", "rel", "--uid", "1"},
	} {
		if err := commands[args[0]](ctx, args[1:]); !errors.As(err, new(usageError)) {
			t.Errorf("%v: %v, want a command line error", args, err)
		}
	}
}

// cacheSwarm is a tracker and a seeder of a 2 MiB file; it returns the file, the torrent's
// path and the tracker's URL, and stops the seeder when stop is called.
func cacheSwarm(t *testing.T) (file, torrent, url string, stop func()) {
	t.Helper()
	_, url = trustTracker(t, "")
	dir := t.TempDir()
	file = filepath.Join(dir, "model.bin")
	if err := generate.WriteFile(file, 3, 2<<20); err != nil {
		t.Fatal(err)
	}
	meta, err := metainfo.Create(file, metainfo.CreateOptions{PieceLength: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	torrent = filepath.Join(dir, "model.torrent")
	if err := writeTorrent(meta, torrent); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	seedErr := make(chan error, 1)
	go func() { seedErr <- runSeed(ctx, peerArgs("--file", file, "--torrent", torrent, "--tracker", url)) }()
	var once bool
	stop = func() {
		if once {
			return
		}
		once = true
		cancel()
		if err := <-seedErr; err != nil {
			t.Errorf("seeder: %v", err)
		}
	}
	t.Cleanup(stop)
	return file, torrent, url, stop
}

// getCached runs `peer get --cache-root root --cache-name ns/model` against the tracker.
func getCached(ctx context.Context, torrent, url, root string, extra ...string) error {
	args := append([]string{"--torrent", torrent, "--tracker", url, "--cache-root", root, "--cache-name", "ns/model"}, extra...)
	return runGet(ctx, peerArgs(args...))
}

// The first get downloads into the cache and links the copy; once the seeder is gone, a second
// get on the same root finishes at once (it could not download: no other peer exists); release
// removes only the name; the clean-up keeps the copy while young and removes it once older
// than the retention.
func TestGetWithTheNodeCache(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	file, torrent, url, stopSeeder := cacheSwarm(t)
	root := t.TempDir()
	if err := getCached(ctx, torrent, url, root, "--exit-on-complete"); err != nil {
		t.Fatal(err)
	}
	stable := filepath.Join(root, "by-name", "ns", "model", "model.bin")
	peertest.SameFile(t, file, stable)
	stopSeeder()

	start := time.Now()
	if err := getCached(ctx, torrent, url, root, "--exit-on-complete"); err != nil {
		t.Fatalf("the cache hit: %v", err)
	}
	t.Logf("cache hit of 2 MiB: %v", time.Since(start))
	sum := fileSHA256(t, file)
	for _, want := range []string{sum, sum} { // checked once, then recorded
		if err := getCached(ctx, torrent, url, root, "--exit-on-complete", "--sha256", want); err != nil {
			t.Fatalf("the cache hit with --sha256: %v", err)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(filepath.Dir(stable), ".verified")); !strings.Contains(string(data), sum) {
		t.Fatalf("the checked SHA-256 is not recorded: %s", data)
	}
	if err := getCached(ctx, torrent, url, root, "--exit-on-complete", "--sha256", strings.Repeat("0", 64)); err == nil {
		t.Fatal("a cache hit passed for a SHA-256 the file does not have")
	}

	if err := runCacheRelease(ctx, []string{"--cache-root", root, "--cache-name", "ns/model"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Dir(stable)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the released name stays: %v", err)
	}
	content, _ := filepath.Glob(filepath.Join(root, "content", "*", "model.bin"))
	if len(content) != 1 {
		t.Fatalf("release touched the copy: %v", content)
	}
	if err := runCacheGC(ctx, []string{"--cache-root", root, "--cache-retention", "1h"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(content[0]); err != nil {
		t.Fatalf("the clean-up removed a young copy: %v", err)
	}
	if err := runCacheGC(ctx, []string{"--cache-root", root, "--cache-retention", "0s"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(content[0])); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the clean-up kept an unreferenced copy past its retention: %v", err)
	}
}

// A directory swarm (a multi-file torrent) over real TCP: get --cache-root downloads the tree
// into the node cache and links it; with the seeder gone, a second get on the same root is a
// hit: it completes without a peer and leaves the record as it was (a miss removes the record
// and writes a new one once the copy is verified again). --sha256 is refused for a directory.
func TestGetDirectoryWithTheNodeCache(t *testing.T) {
	tr := trackertest.Start(t)
	src := payload(t)
	seedCtx, stopSeed := context.WithCancel(context.Background())
	defer stopSeed()
	seedErr := make(chan error, 1)
	go func() {
		seedErr <- runSeed(seedCtx, peerArgs("--file", src, "--tracker", tr.URL, "--swarm", "model", "--piece-size", "64KiB"))
	}()
	waitSeeders(t, tr.Client, "model", 1)
	root := t.TempDir()
	get := func(extra ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return runGet(ctx, peerArgs(append([]string{"--tracker", tr.URL, "--swarm", "model", "--exit-on-complete",
			"--cache-root", root, "--cache-name", "gpu/model"}, extra...)...))
	}
	if err := get(); err != nil {
		t.Fatalf("the first get: %v", err)
	}
	sameTree(t, src, filepath.Join(root, "by-name", "gpu", "model", "model"))
	records, _ := filepath.Glob(filepath.Join(root, "content", "*", ".verified"))
	if len(records) != 1 {
		t.Fatalf("records %v", records)
	}
	before, _ := os.ReadFile(records[0])
	stopSeed()
	if err := <-seedErr; err != nil {
		t.Fatalf("seeder: %v", err)
	}

	if err := get("--metadata-timeout", "0"); err != nil { // the tracker's torrent: no peer is left
		t.Fatalf("the cache hit: %v", err)
	}
	if after, _ := os.ReadFile(records[0]); !bytes.Equal(before, after) || !bytes.Contains(after, []byte(`"files"`)) {
		t.Fatalf("the second get was not a hit: the record changed from\n%s\nto\n%s", before, after)
	}
	err := get("--metadata-timeout", "0", "--sha256", strings.Repeat("0", 64))
	if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("get --sha256 of a directory: %v, want a command line error", err)
	}
}

// Two nodes (two cache roots) in one swarm: node B's root holds a verified copy from before,
// the seeder is gone, so B finishes at once and is node A's only source.
func TestTwoNodesOverTheNodeCache(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	file, torrent, url, stopSeeder := cacheSwarm(t)
	rootA, rootB := t.TempDir(), t.TempDir()
	if err := getCached(ctx, torrent, url, rootB, "--exit-on-complete"); err != nil {
		t.Fatal(err)
	}
	stopSeeder()

	bCtx, stopB := context.WithCancel(ctx)
	bErr := make(chan error, 1)
	go func() { bErr <- getCached(bCtx, torrent, url, rootB) }() // seeds on after its hit
	if err := getCached(ctx, torrent, url, rootA, "--exit-on-complete"); err != nil {
		t.Fatalf("node A: %v", err)
	}
	stopB()
	if err := <-bErr; err != nil {
		t.Fatalf("node B: %v", err)
	}
	for _, root := range []string{rootA, rootB} {
		peertest.SameFile(t, file, filepath.Join(root, "by-name", "ns", "model", "model.bin"))
	}
}

// A full disk under the cache fails get with "node cache: disk full", exit code 1, and that
// message as the termination message. It needs a small tmpfs (root with CAP_SYS_ADMIN).
func TestGetOnAFullCacheDisk(t *testing.T) {
	root := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", root, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("no small tmpfs to fill (mount: %v)", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(root, 0) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, torrent, url, _ := cacheSwarm(t)
	err := getCached(ctx, torrent, url, root, "--exit-on-complete")
	if !errors.Is(err, peer.ErrDiskFull) || !strings.HasPrefix(err.Error(), "node cache: disk full: ") {
		t.Fatalf("get on a full disk: %v, want node cache: disk full", err)
	}
	msg := filepath.Join(t.TempDir(), "termination-log")
	if err := os.WriteFile(msg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	defer func(old string) { terminationLog = old }(terminationLog)
	terminationLog = msg
	if code := finish("get", err); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if data, _ := os.ReadFile(msg); !strings.HasPrefix(string(data), "node cache: disk full: ") {
		t.Fatalf("termination message %q", data)
	}
}

// The termination message is written only where the file exists (Kubernetes makes it), and
// at most Kubernetes' 4096 bytes.
func TestTerminationMessage(t *testing.T) {
	defer func(old string) { terminationLog = old }(terminationLog)
	terminationLog = filepath.Join(t.TempDir(), "absent")
	writeTerminationMessage("x")
	if _, err := os.Stat(terminationLog); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the message created %s: %v", terminationLog, err)
	}
	if err := os.WriteFile(terminationLog, []byte("old and longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeTerminationMessage(strings.Repeat("y", 5000))
	data, _ := os.ReadFile(terminationLog)
	if len(data) != maxTerminationMessage || data[0] != 'y' {
		t.Fatalf("termination message of %d bytes", len(data))
	}
	if got := cacheFailure(fmt.Errorf("write: %w", peer.ErrDiskFull)).Error(); !strings.HasPrefix(got, "node cache: disk full: ") {
		t.Fatalf("cacheFailure: %q", got)
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
