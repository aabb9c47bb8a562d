package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/tracker"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// These tests play the intruder against the peer binary's trust flags: --info-hash (seed, get),
// --sha256 (get), --publish-secret-file (seed).

// trustTracker serves a tracker with a one-second heartbeat on 127.0.0.1.
func trustTracker(t *testing.T, token string) (*client.Client, string) {
	t.Helper()
	tr := trackertest.Start(t, trackertest.WithConfig(tracker.Config{PublishToken: token}), trackertest.WithHeartbeat(time.Second))
	return tr.Client, tr.URL
}

// trustFile writes a deterministic file of content seed and returns its path, its .torrent (as
// `peer seed --swarm` creates it: 64 KiB pieces, named for the file) and the .torrent's path.
func trustFile(t *testing.T, seed uint64) (string, *metainfo.MetaInfo, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "payload.bin")
	if err := generate.WriteFile(path, seed, 300<<10); err != nil {
		t.Fatal(err)
	}
	meta, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: 64 << 10, Name: "payload.bin"})
	if err != nil {
		t.Fatal(err)
	}
	torrent := filepath.Join(dir, "payload.torrent")
	if err := writeTorrent(meta, torrent); err != nil {
		t.Fatal(err)
	}
	return path, meta, torrent
}

// hexHash is meta's v1 info-hash in hex.
func hexHash(meta *metainfo.MetaInfo) string {
	h := meta.InfoHashV1()
	return hex.EncodeToString(h[:])
}

// peerArgs are the flags of a test peer: loopback, no metrics server.
func peerArgs(args ...string) []string {
	return append([]string{"--listen", "127.0.0.1:0", "--metrics-addr", "", "--log-level", "error"}, args...)
}

// An intruder stored its torrent under the swarm's name first (a tracker without a secret): a
// leecher pinned to the real info-hash refuses it, from the tracker or from a file.
func TestGetRefusesATorrentThatIsNotTheInfoHash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tc, url := trustTracker(t, "")
	_, real, _ := trustFile(t, 1)
	_, intruder, intruderTorrent := trustFile(t, 666)
	data, _ := intruder.Encode()
	if err := tc.PublishTorrent(ctx, "demo", data); err != nil {
		t.Fatal(err)
	}
	for name, source := range map[string][]string{
		"--swarm":   {"--tracker", url, "--swarm", "demo"},
		"--torrent": {"--torrent", intruderTorrent},
	} {
		err := runGet(ctx, peerArgs(append(source, "--dir", t.TempDir(), "--info-hash", hexHash(real))...))
		if !errors.Is(err, client.ErrWrongTorrent) {
			t.Fatalf("%s: err %v, want ErrWrongTorrent", name, err)
		}
		for _, want := range []string{"--info-hash", hexHash(real), hexHash(intruder)} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not name %s", name, err, want)
			}
		}
	}
	// The pinned torrent itself is taken (upper-case hex too).
	c := &common{tracker: url, swarm: "demo", timeout: 5 * time.Second, pin: pinFlags{infoHash: strings.ToUpper(hexHash(intruder))}}
	if err := c.pin.check(); err != nil {
		t.Fatal(err)
	}
	if meta, err := getTorrent(ctx, discardLog(), c); err != nil || meta.InfoHashV1() != intruder.InfoHashV1() {
		t.Fatalf("getTorrent of the pinned torrent: %v", err)
	}
}

// A seeder pinned to the swarm's info-hash refuses a file (a wrong --url download, say) that
// makes another torrent, before it publishes anything.
func TestSeedRefusesAFileThatIsNotTheInfoHash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tc, url := trustTracker(t, "")
	_, real, realTorrent := trustFile(t, 1)
	other, _, _ := trustFile(t, 666)
	err := runSeed(ctx, peerArgs("--file", other, "--tracker", url, "--swarm", "demo", "--piece-size", "64KiB",
		"--info-hash", hexHash(real)))
	if !errors.Is(err, client.ErrWrongTorrent) || !strings.Contains(err.Error(), "--info-hash") {
		t.Fatalf("err %v, want ErrWrongTorrent naming --info-hash", err)
	}
	if _, err := tc.FetchTorrent(ctx, "demo"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("after the refusal the tracker holds a torrent (%v)", err)
	}
	err = runSeed(ctx, peerArgs("--file", other, "--torrent", realTorrent, "--info-hash", strings.Repeat("0", 40)))
	if !errors.Is(err, client.ErrWrongTorrent) {
		t.Fatalf("--torrent of another hash: err %v, want ErrWrongTorrent", err)
	}
}

// A seeder without the tracker's publish secret, or with a wrong one, fails at once with a clear
// error; with it, it publishes.
func TestSeedSendsThePublishSecret(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tc, url := trustTracker(t, "tok-1")
	file, meta, _ := trustFile(t, 1)
	dir := t.TempDir()
	wrong, right := filepath.Join(dir, "wrong"), filepath.Join(dir, "right")
	_ = os.WriteFile(wrong, []byte("tok-2\n"), 0o600)
	_ = os.WriteFile(right, []byte("tok-1\n"), 0o600)
	base := []string{"--file", file, "--tracker", url, "--swarm", "demo", "--piece-size", "64KiB"}
	for name, extra := range map[string][]string{"none": nil, "wrong": {"--publish-secret-file", wrong}} {
		err := runSeed(ctx, peerArgs(append(base, extra...)...))
		if !errors.Is(err, client.ErrUnauthorized) {
			t.Fatalf("%s secret: err %v, want ErrUnauthorized", name, err)
		}
	}
	if err := runSeed(ctx, peerArgs(append(base, "--publish-secret-file", filepath.Join(dir, "absent"))...)); err == nil {
		t.Fatal("a missing secret file was accepted")
	}

	seedCtx, stopSeed := context.WithCancel(ctx)
	seedErr := make(chan error, 1)
	go func() { seedErr <- runSeed(seedCtx, peerArgs(append(base, "--publish-secret-file", right)...)) }()
	waitTorrent(t, tc, "demo", meta)
	stopSeed()
	if err := <-seedErr; err != nil {
		t.Fatalf("seeder with the secret: %v", err)
	}
}

// waitTorrent waits until the tracker holds meta under name.
func waitTorrent(t *testing.T, tc *client.Client, name string, meta *metainfo.MetaInfo) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		data, err := tc.FetchTorrent(context.Background(), name)
		if err == nil {
			got, err := metainfo.Parse(data)
			if err != nil || got.InfoHashV1() != meta.InfoHashV1() {
				t.Fatalf("the tracker holds another torrent under %q (%v)", name, err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never published: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// get --sha256: a file that does not match is an error, never a completed download; a matching
// one completes.
func TestGetChecksTheFilesSHA256(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tc, url := trustTracker(t, "")
	file, meta, _ := trustFile(t, 1)
	seedCtx, stopSeed := context.WithCancel(ctx)
	defer stopSeed()
	go func() {
		_ = runSeed(seedCtx, peerArgs("--file", file, "--tracker", url, "--swarm", "demo", "--piece-size", "64KiB"))
	}()
	waitTorrent(t, tc, "demo", meta)
	content, _ := os.ReadFile(file)
	sum := sha256.Sum256(content)

	bad := t.TempDir()
	err := runGet(ctx, peerArgs("--dir", bad, "--tracker", url, "--swarm", "demo", "--exit-on-complete",
		"--sha256", strings.Repeat("ab", 32)))
	if err == nil || !strings.Contains(err.Error(), "SHA-256") || !strings.Contains(err.Error(), strings.Repeat("ab", 32)) {
		t.Fatalf("wrong --sha256: err %v, want a SHA-256 mismatch", err)
	}
	if _, err := os.Stat(filepath.Join(bad, "payload.bin")); !os.IsNotExist(err) {
		t.Errorf("the mismatching file is under its final name (%v)", err)
	}

	good := t.TempDir()
	if err := runGet(ctx, peerArgs("--dir", good, "--tracker", url, "--swarm", "demo", "--exit-on-complete",
		"--sha256", strings.ToUpper(hex.EncodeToString(sum[:])))); err != nil {
		t.Fatalf("right --sha256: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(good, "payload.bin")); string(got) != string(content) {
		t.Fatal("the downloaded file differs")
	}
}

func TestTrustFlagsAreChecked(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		run  func(context.Context, []string) error
		args []string
	}{
		{"short --info-hash", runGet, []string{"--dir", dir, "--torrent", "x", "--info-hash", "abcd"}},
		{"non-hex --info-hash", runSeed, []string{"--file", "x", "--torrent", "x", "--info-hash", strings.Repeat("z", 40)}},
		{"short --sha256", runGet, []string{"--dir", dir, "--torrent", "x", "--sha256", "abcd"}},
		{"zero --max-bytes", runSeed, []string{"--file", "x", "--torrent", "x", "--max-bytes", "0"}},
	} {
		if err := tc.run(ctx, peerArgs(tc.args...)); !errors.As(err, new(usageError)) {
			t.Errorf("%s: err %v, want a usage error", tc.name, err)
		}
	}
	if defaultMaxDownloadBytes != 64<<30 {
		t.Errorf("--max-bytes default %d, want 64 GiB", defaultMaxDownloadBytes)
	}
}

// discardLog is a logger that drops everything.
func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
