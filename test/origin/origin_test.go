package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/backoff"
	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/source"
)

// payload writes a small model-like tree and returns its files by slash path.
func payload(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{"config.json": []byte(`{"model": "tiny"}`), "tokenizer/vocab.txt": []byte("a\nb\nc\n")}
	for i, p := range []string{"shards/model-1.bin", "shards/model-2.bin"} {
		tmp := filepath.Join(t.TempDir(), "g")
		if err := generate.WriteFile(tmp, uint64(i+1), 300<<10); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(tmp)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = b
	}
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// sameTree fails unless dir holds exactly files.
func sameTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if want, ok := files[filepath.ToSlash(rel)]; !ok || !bytes.Equal(got, want) {
			t.Errorf("%s: unexpected or different", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(files) {
		t.Errorf("%s holds %d files, want %d", dir, n, len(files))
	}
}

// The origin serves one directory three ways; internal/source fetches the same tree from each
// (HTTP with every response cut after 100 KiB), and the origin stops when its context ends.
func TestOriginServesTheDirectoryThreeWays(t *testing.T) {
	dir := t.TempDir()
	files := payload(t, dir)
	cfg := config{dir: dir, httpAddr: "127.0.0.1:0", regAddr: "127.0.0.1:0", s3Addr: "127.0.0.1:0",
		repo: "models/tiny", tag: "v1", bucket: "models", accessKey: "AKIDORIGIN", secretKey: "s", dropEvery: 100 << 10}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan addrs, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- run(ctx, log, cfg, func(a addrs) { ready <- a }) }()
	var a addrs
	select {
	case a = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + a.HTTP + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	_ = resp.Body.Close()

	quick := backoff.Policy{Initial: time.Millisecond, Max: 10 * time.Millisecond, Multiplier: 2, Attempts: 3}
	base := source.Spec{Retry: quick}
	out := t.TempDir()
	var urls []string
	for p := range files {
		if filepath.Dir(p) == "shards" {
			urls = append(urls, "http://"+a.HTTP+"/"+p)
		}
	}
	httpSpec := base
	httpSpec.HTTP = &source.HTTP{URLs: urls}
	fetch(t, httpSpec, filepath.Join(out, "http"))
	sameTree(t, filepath.Join(out, "http"), map[string][]byte{"model-1.bin": files["shards/model-1.bin"], "model-2.bin": files["shards/model-2.bin"]})

	ociSpec := base
	ociSpec.OCI = &source.OCI{Ref: a.Registry + "/models/tiny:v1", PlainHTTP: true}
	fetch(t, ociSpec, filepath.Join(out, "oci"))
	sameTree(t, filepath.Join(out, "oci"), files)

	creds := t.TempDir()
	_ = os.WriteFile(filepath.Join(creds, "AWS_ACCESS_KEY_ID"), []byte("AKIDORIGIN"), 0o600)
	_ = os.WriteFile(filepath.Join(creds, "AWS_SECRET_ACCESS_KEY"), []byte("s"), 0o600)
	s3Spec := base
	s3Spec.S3 = &source.S3{Endpoint: a.S3, Bucket: "models", CredentialsDir: creds, PlainHTTP: true}
	fetch(t, s3Spec, filepath.Join(out, "s3"))
	sameTree(t, filepath.Join(out, "s3"), files)

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel: %v", err)
	}
}

func fetch(t *testing.T, spec source.Spec, dest string) {
	t.Helper()
	if _, err := source.Fetch(context.Background(), slog.New(slog.DiscardHandler), spec, dest); err != nil {
		t.Fatal(err)
	}
}

func TestParseFlags(t *testing.T) {
	if _, err := parseFlags(nil); err == nil {
		t.Error("no --dir accepted")
	}
	c, err := parseFlags([]string{"--dir", "/d", "--drop-every", "4096", "--http", ""})
	if err != nil || c.dropEvery != 4096 || c.httpAddr != "" || c.regAddr != ":5000" || c.s3Addr != ":9000" {
		t.Errorf("%+v %v", c, err)
	}
}
