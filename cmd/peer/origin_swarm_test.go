package main

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/source/sourcetest"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// originLayout is the model-like tree every origin below serves: nested directories, an empty
// file, files smaller and larger than a piece.
var originLayout = generate.TreeLayout(3<<20+12345, 6)

// Each origin, served by a real server on loopback, becomes a directory swarm: the seeder
// fetches the tree (through an origin that cuts responses, for HTTP and OCI), a leecher gets it
// from the seeder only, and its copy is the origin's tree byte for byte.
func TestEveryOriginSeedsADirectorySwarm(t *testing.T) {
	src := filepath.Join(t.TempDir(), "origin")
	if err := generate.WriteTree(src, 11, originLayout, false); err != nil {
		t.Fatal(err)
	}
	flat := flatCopy(t, src)
	for _, tc := range []struct {
		name  string
		flags func(t *testing.T) []string
		want  string // the tree the leecher must hold
	}{
		{"http", func(t *testing.T) []string { return httpOrigin(t, src) }, flat},
		{"oci", func(t *testing.T) []string { return ociOrigin(t, src) }, src},
		{"s3", func(t *testing.T) []string { return s3Origin(t, src) }, src},
		{"directory", func(*testing.T) []string { return nil }, src}, // a claim's directory
	} {
		t.Run(tc.name, func(t *testing.T) {
			seedDir := filepath.Join(t.TempDir(), "payload")
			if tc.name == "directory" {
				seedDir = src
			}
			got := runDirectorySwarm(t, seedDir, tc.flags(t))
			want, err := generate.TreeSHA256(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("the leecher's tree digests to %s, the origin's to %s", got, want)
			}
		})
	}
}

// runDirectorySwarm runs a tracker, a seeder of seedPath (fetched first with originFlags when
// absent) and one leecher until the leecher exits complete, and returns the leecher's tree
// digest.
func runDirectorySwarm(t *testing.T, seedPath string, originFlags []string) string {
	t.Helper()
	tr := trackertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	common := []string{"--tracker", tr.URL, "--swarm", "tree", "--listen", "127.0.0.1:0", "--metrics-addr", ""}
	seedErr := make(chan error, 1)
	go func() {
		seedErr <- runSeed(ctx, append(append([]string{"--file", seedPath, "--piece-size", "64KiB"}, common...), originFlags...))
	}()
	leechDir := t.TempDir()
	if err := runGet(ctx, append([]string{"--dir", leechDir, "--exit-on-complete", "--metadata-timeout", "10s"}, common...)); err != nil {
		t.Fatalf("leecher: %v", err)
	}
	cancel()
	if err := <-seedErr; err != nil {
		t.Fatalf("seeder: %v", err)
	}
	sum, err := generate.TreeSHA256(filepath.Join(leechDir, filepath.Base(seedPath)))
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// httpOrigin serves dir's files over HTTP, cutting the first responses mid-file, and returns
// the seeder's flags: one --url per file.
func httpOrigin(t *testing.T, dir string) []string {
	srv := httptest.NewServer(&sourcetest.Dropper{Handler: http.FileServer(http.Dir(dir)), Every: 300 << 10, Times: 3})
	t.Cleanup(srv.Close)
	var args []string
	for _, f := range originLayout {
		args = append(args, "--url", srv.URL+"/"+f.Path)
	}
	return args
}

// ociOrigin pushes dir as an ORAS-style artifact into go-containerregistry's registry behind a
// server that cuts its first answers, and returns the seeder's flags.
func ociOrigin(t *testing.T, dir string) []string {
	srv := httptest.NewServer(&sourcetest.Dropper{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), Every: 200 << 10, Times: 4})
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, err := name.ParseReference(host+"/models/tree:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := sourcetest.DirBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sourcetest.PushArtifact(context.Background(), ref, blobs); err != nil {
		t.Fatal(err)
	}
	return []string{"--oci-ref", ref.String(), "--oci-plain-http"}
}

// s3Origin puts dir into a bucket of a gofakes3 server that checks the access key, and
// returns the seeder's flags with credentials from files, as a mounted Secret gives them.
func s3Origin(t *testing.T, dir string) []string {
	h, backend := sourcetest.NewS3("minibit")
	if err := sourcetest.PutDir(backend, "models", "tree/v1", dir); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	creds := t.TempDir()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "minibit", "AWS_SECRET_ACCESS_KEY": "secret"} {
		if err := os.WriteFile(filepath.Join(creds, k), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"--s3-endpoint", u.Host, "--s3-bucket", "models", "--s3-prefix", "tree/v1",
		"--s3-credentials-dir", creds, "--s3-plain-http"}
}

// flatCopy copies dir's files into a new directory under their base names: what a list of
// URLs gives.
func flatCopy(t *testing.T, dir string) string {
	out := filepath.Join(t.TempDir(), "flat")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range originLayout {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, path.Base(f.Path)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
