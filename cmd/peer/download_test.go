package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDownloadChecksAndRenames(t *testing.T) {
	content := []byte(strings.Repeat("minibit ", 10000))
	sum := sha256.Sum256(content)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 { // the first attempt fails: the download retries
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write(content)
	}))
	defer srv.Close()
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()

	good := filepath.Join(dir, "good.bin")
	if err := download(context.Background(), log, srv.URL, hex.EncodeToString(sum[:]), good, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(good); string(got) != string(content) {
		t.Fatal("downloaded bytes differ")
	}
	if calls.Load() != 2 {
		t.Errorf("%d requests, want 2 (one retry)", calls.Load())
	}

	bad := filepath.Join(dir, "bad.bin")
	err := download(context.Background(), log, srv.URL, strings.Repeat("0", 64), bad, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("mismatch: err %v, want a SHA-256 error", err)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Error("a file that failed its checksum is under its final name")
	}
	if _, err := os.Stat(bad + ".download"); !os.IsNotExist(err) {
		t.Error("the temporary download was left behind")
	}
}

func TestCommonFlagsRequireASource(t *testing.T) {
	err := runGet(context.Background(), []string{"--dir", t.TempDir()})
	if !errors.As(err, new(usageError)) {
		t.Fatalf("get without --torrent or --swarm: err %v, want a usage error", err)
	}
	err = runSeed(context.Background(), []string{"--file", "x", "--torrent", "x.torrent", "--choker", "fastest"})
	if !errors.As(err, new(usageError)) {
		t.Fatalf("unknown --choker: err %v, want a usage error", err)
	}
	err = runSeed(context.Background(), []string{"--file", "x", "--torrent", "x.torrent", "--picker", "sequential"})
	if !errors.As(err, new(usageError)) {
		t.Fatalf("unknown --picker: err %v, want a usage error", err)
	}
}
