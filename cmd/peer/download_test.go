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
	"strconv"
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
	if err := download(context.Background(), log, srv.URL, hex.EncodeToString(sum[:]), good, defaultMaxDownloadBytes, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(good); string(got) != string(content) {
		t.Fatal("downloaded bytes differ")
	}
	if calls.Load() != 2 {
		t.Errorf("%d requests, want 2 (one retry)", calls.Load())
	}

	bad := filepath.Join(dir, "bad.bin")
	err := download(context.Background(), log, srv.URL, strings.Repeat("0", 64), bad, defaultMaxDownloadBytes, 5*time.Second)
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

// An origin that sends more than --max-bytes, saying so (Content-Length) or not (chunked), is
// refused at once, not retried, and leaves no file.
func TestDownloadOverMaxBytesFails(t *testing.T) {
	const limit = 4 << 10
	content := []byte(strings.Repeat("x", 10<<10))
	for _, chunked := range []bool{false, true} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			calls.Add(1)
			if chunked {
				_, _ = w.Write(content[:1])
				w.(http.Flusher).Flush() // no Content-Length from here on
				_, _ = w.Write(content[1:])
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(content)))
			_, _ = w.Write(content)
		}))
		file := filepath.Join(t.TempDir(), "big.bin")
		err := download(context.Background(), slog.New(slog.DiscardHandler), srv.URL, "", file, limit, 5*time.Second)
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), "--max-bytes") {
			t.Fatalf("chunked=%v: err %v, want a --max-bytes error", chunked, err)
		}
		if calls.Load() != 1 {
			t.Errorf("chunked=%v: %d requests, want 1 (no retry)", chunked, calls.Load())
		}
		for _, path := range []string{file, file + ".download"} {
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("chunked=%v: %s left behind", chunked, path)
			}
		}
	}
	// Exactly the limit is fine.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(content[:limit]) }))
	defer srv.Close()
	if err := download(context.Background(), slog.New(slog.DiscardHandler), srv.URL, "", filepath.Join(t.TempDir(), "ok.bin"), limit, 5*time.Second); err != nil {
		t.Fatalf("a download of exactly --max-bytes: %v", err)
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
