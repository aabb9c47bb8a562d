package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/tracker"
	"github.com/minibit-io/minibit/internal/tracker/client"
)

func TestFlagDefaultsAreTheNotesNumbers(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.listen != ":8080" || o.logFormat != "text" || o.logLevel != slog.LevelInfo {
		t.Fatalf("defaults %+v", o)
	}
	want := tracker.Config{Interval: 30 * time.Second, PeerTTL: 5 * time.Minute, DefaultNumWant: 5, MaxNumWant: 50,
		MaxSwarms: tracker.DefaultMaxSwarms, MaxPeersPerSwarm: tracker.DefaultMaxPeersPerSwarm,
		MaxTorrentBytes: tracker.DefaultMaxTorrentBytes}
	if diff := cmp.Diff(want, o.cfg, cmpopts.IgnoreFields(tracker.Config{}, "Logger", "Registerer", "Now")); diff != "" {
		t.Fatalf("tracker config of the defaults mismatch (-want +got):\n%s", diff)
	}
}

func TestFlagsAreParsedAndChecked(t *testing.T) {
	o, err := parseFlags([]string{"--listen", "127.0.0.1:0", "--announce-interval", "1s", "--peer-ttl", "10s",
		"--numwant", "8", "--log-format", "json", "--log-level", "debug"})
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.Interval != time.Second || o.cfg.PeerTTL != 10*time.Second || o.cfg.DefaultNumWant != 8 ||
		o.logFormat != "json" || o.logLevel != slog.LevelDebug {
		t.Fatalf("parsed %+v", o)
	}
	for _, args := range [][]string{
		{"--log-format", "xml"},
		{"--log-level", "loud"},
		{"--announce-interval", "100ms"},
		{"--announce-interval", "1m", "--peer-ttl", "30s"},
		{"--interval", "100ms"},
		{"extra"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%s) accepted bad flags", strings.Join(args, " "))
		}
	}
}

// --interval, the name before the vocabulary of issue 12, still sets the announce interval.
func TestIntervalIsTheOldNameOfAnnounceInterval(t *testing.T) {
	o, err := parseFlags([]string{"--interval", "2s"})
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.Interval != 2*time.Second {
		t.Fatalf("--interval 2s: announce interval %v", o.cfg.Interval)
	}
}

func TestTrustFlagsAreOffByDefault(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.secretFile != "" || o.cfg.RegisteredOnly || o.cfg.PublishToken != "" {
		t.Fatalf("trust flags on by default: %+v", o)
	}
	o, err = parseFlags([]string{"--publish-secret-file", "/etc/minibit/publish/token", "--registered-only"})
	if err != nil || o.secretFile != "/etc/minibit/publish/token" || !o.cfg.RegisteredOnly {
		t.Fatalf("parsed %+v, %v", o, err)
	}
}

func TestRunRefusesAnUnusableSecretFile(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{empty, filepath.Join(dir, "absent")} {
		o, err := parseFlags([]string{"--listen", "127.0.0.1:0", "--publish-secret-file", path})
		if err != nil {
			t.Fatal(err)
		}
		if err := run(context.Background(), o, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "publish secret") {
			t.Fatalf("run with secret file %s: %v, want a publish secret error", path, err)
		}
	}
}

// The tracker started with --publish-secret-file and --registered-only refuses an upload without
// the file's token and an announce of an unregistered info-hash, and takes the upload with it.
func TestRunWithTheTrustFlags(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("tok-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := parseFlags([]string{"--listen", "127.0.0.1:0", "--publish-secret-file", secret, "--registered-only"})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, slog.New(slog.NewTextHandler(logs, nil))) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	addr := waitListening(t, logs)
	tc := client.NewClient("http://" + addr)
	data := smallTorrent(t)
	if err := tc.PublishTorrent(ctx, "demo", data); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("upload without the token: %v, want ErrUnauthorized", err)
	}
	if _, err := tc.Announce(ctx, client.AnnounceRequest{InfoHash: [20]byte{1}, PeerID: [20]byte{2}, Port: 1}); err == nil {
		t.Fatal("an unregistered info-hash was announced")
	}
	tc.PublishToken = "tok-123"
	if err := tc.PublishTorrent(ctx, "demo", data); err != nil {
		t.Fatalf("upload with the token: %v", err)
	}
}

// waitListening returns the address of the "Tracker listening" log line.
func waitListening(t *testing.T, logs *syncBuffer) string {
	t.Helper()
	re := regexp.MustCompile(`Tracker listening" addr=(\S+)`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the tracker did not start: %s", logs.String())
	return ""
}

// smallTorrent is the encoded .torrent of a small file.
func smallTorrent(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(path, []byte(strings.Repeat("minibit", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
