package source

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/minibit-io/minibit/internal/source/sourcetest"
)

// startRegistry runs go-containerregistry's registry on 127.0.0.1 behind wrap (nil: none).
func startRegistry(t *testing.T, wrap func(http.Handler) http.Handler, opts ...registry.Option) string {
	t.Helper()
	h := registry.New(append(opts, registry.Logger(discardLog()))...)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// push pushes blobs to ref with opts.
func push(t *testing.T, ref string, blobs []sourcetest.Blob, opts ...remote.Option) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sourcetest.PushArtifact(context.Background(), r, blobs, opts...); err != nil {
		t.Fatal(err)
	}
}

func ociSpec(ref string) Spec {
	s := testSpec()
	s.HTTP = nil
	s.OCI = &OCI{Ref: ref, PlainHTTP: true}
	return s
}

// refused fetches spec with a 1000-byte limit and fails unless it is refused (with
// ErrTooLarge when tooLarge) and leaves nothing behind.
func refused(t *testing.T, label string, spec Spec, tooLarge bool) {
	t.Helper()
	spec.MaxBytes = 1000
	dest := filepath.Join(t.TempDir(), "d")
	_, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), spec, dest)
	t.Logf("%s: %v", label, err)
	if err == nil {
		t.Errorf("%s: accepted", label)
	}
	if tooLarge && !errors.Is(err, ErrTooLarge) {
		t.Errorf("%s: err %v, want ErrTooLarge", label, err)
	}
	noLeftovers(t, dest)
}

// noLeftovers fails when dest or its partial directory exists.
func noLeftovers(t *testing.T, dest string) {
	t.Helper()
	if m, _ := filepath.Glob(dest + "*"); len(m) != 0 {
		t.Errorf("left behind: %v", m)
	}
}

// An ORAS-style artifact becomes a directory of its titles, fetched through a registry whose
// blob answers are cut mid-file (each cut resumed with a Range).
func TestOCIArtifactBecomesADirectory(t *testing.T) {
	files := map[string][]byte{
		"config.json":          []byte(`{"layers": 2}`),
		"weights/shard-1.bin":  content(t, 10, 700<<10),
		"weights/shard-2.bin":  content(t, 11, 300<<10),
		"tokenizer/vocab.txt":  []byte("a\nb\n"),
		"tokenizer/empty-file": nil,
	}
	var blobs []sourcetest.Blob
	for p, b := range files {
		blobs = append(blobs, sourcetest.BytesBlob(p, b))
	}
	cutBlobs := func(h http.Handler) http.Handler {
		cut := &sourcetest.Dropper{Handler: h, Every: 128 << 10}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
				cut.ServeHTTP(w, r)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	host := startRegistry(t, cutBlobs)
	push(t, host+"/models/llm:v1", blobs)

	dest := filepath.Join(t.TempDir(), "llm")
	res := fetchOK(t, ociSpec(host+"/models/llm:v1"), dest)
	if res.Files != len(files) || !res.Dir || res.Bytes != 1000<<10+13+4 {
		t.Errorf("result %+v", res)
	}
	for p, b := range files {
		sameFile(t, filepath.Join(dest, filepath.FromSlash(p)), b)
	}
	if _, err := os.Stat(dest + ".partial"); !os.IsNotExist(err) {
		t.Error("the partial directory is left behind")
	}
}

// An image without titles gives each layer's digest as its file name.
func TestOCIImageWithoutTitlesNamesLayersByDigest(t *testing.T) {
	host := startRegistry(t, nil)
	a, b := content(t, 12, 5000), content(t, 13, 6000)
	push(t, host+"/img:1", []sourcetest.Blob{sourcetest.BytesBlob("", a), sourcetest.BytesBlob("", b), sourcetest.BytesBlob("", a)})
	dest := filepath.Join(t.TempDir(), "img")
	res := fetchOK(t, ociSpec(host+"/img:1"), dest)
	if res.Files != 2 {
		t.Errorf("%d files, want 2 (a layer listed twice is one file)", res.Files)
	}
	for _, want := range [][]byte{a, b} {
		h, _, _ := v1.SHA256(bytes.NewReader(want))
		sameFile(t, filepath.Join(dest, "sha256-"+h.Hex), want)
	}
}

// A registry that wants credentials: refused without the pull secret (not retried), pulled
// with it.
func TestOCIPullSecret(t *testing.T) {
	var mu sync.Mutex
	denied := 0
	basic := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "puller" || p != "pa55" {
				mu.Lock()
				denied++
				mu.Unlock()
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, "denied", http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	host := startRegistry(t, basic)
	creds := remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: "puller", Password: "pa55"}))
	push(t, host+"/private/m:v1", []sourcetest.Blob{sourcetest.BytesBlob("m.bin", []byte("private bytes"))}, creds)

	spec := ociSpec(host + "/private/m:v1")
	dest := filepath.Join(t.TempDir(), "m")
	if _, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), spec, dest); err == nil {
		t.Fatal("pulled without the pull secret")
	}
	noLeftovers(t, dest)

	secret := filepath.Join(t.TempDir(), ".dockerconfigjson")
	auth := base64.StdEncoding.EncodeToString([]byte("puller:pa55"))
	if err := os.WriteFile(secret, []byte(`{"auths":{"http://`+host+`/v2/":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	spec.OCI.AuthFile = secret
	fetchOK(t, spec, dest)
	sameFile(t, filepath.Join(dest, "m.bin"), []byte("private bytes"))
}

// discardLog is a registry logger that writes nothing.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// corruptBlobs serves one blob (bad) with its first byte flipped: a registry whose storage rots
// or lies.
type corruptBlobs struct {
	registry.BlobHandler
	mu  sync.Mutex
	bad v1.Hash
}

func (c *corruptBlobs) Get(ctx context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	rc, err := c.BlobHandler.Get(ctx, repo, h)
	c.mu.Lock()
	bad := c.bad
	c.mu.Unlock()
	if err != nil || h != bad {
		return rc, err
	}
	b, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil {
		return nil, err
	}
	b[0] ^= 0xff
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (c *corruptBlobs) Stat(ctx context.Context, repo string, h v1.Hash) (int64, error) {
	return c.BlobHandler.(registry.BlobStatHandler).Stat(ctx, repo, h)
}

func (c *corruptBlobs) Put(ctx context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	return c.BlobHandler.(registry.BlobPutHandler).Put(ctx, repo, h, rc)
}

// A layer whose bytes do not match its digest fails the pull and leaves nothing.
func TestOCILayerNotMatchingItsDigest(t *testing.T) {
	blobs := &corruptBlobs{BlobHandler: registry.NewInMemoryBlobHandler()}
	host := startRegistry(t, nil, registry.WithBlobHandler(blobs))
	good, evil := content(t, 14, 3000), content(t, 15, 4000)
	push(t, host+"/r:v1", []sourcetest.Blob{sourcetest.BytesBlob("good", good), sourcetest.BytesBlob("evil", evil)})
	h, _, _ := v1.SHA256(bytes.NewReader(evil))
	blobs.mu.Lock()
	blobs.bad = h
	blobs.mu.Unlock()

	dest := filepath.Join(t.TempDir(), "r")
	_, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), ociSpec(host+"/r:v1"), dest)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "digest") {
		t.Fatalf("err %v, want a digest mismatch", err)
	}
	noLeftovers(t, dest)
}

// Hostile titles and oversized artifacts are refused before any blob is fetched.
func TestOCIRefusesHostileManifests(t *testing.T) {
	cases := map[string][]sourcetest.Blob{
		"dot dot":        {sourcetest.BytesBlob("../x", []byte("x"))},
		"deep dot dot":   {sourcetest.BytesBlob("a/../../x", []byte("x"))},
		"absolute":       {sourcetest.BytesBlob("/etc/x", []byte("x"))},
		"backslash":      {sourcetest.BytesBlob(`..\x`, []byte("x"))},
		"twice":          {sourcetest.BytesBlob("a", []byte("1")), sourcetest.BytesBlob("a", []byte("2"))},
		"file and dir":   {sourcetest.BytesBlob("a", []byte("1")), sourcetest.BytesBlob("a/b", []byte("2"))},
		"over the limit": {sourcetest.BytesBlob("big", make([]byte, 2000))},
	}
	blobGets := &counter{match: func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/")
	}}
	host := startRegistry(t, blobGets.wrap)
	i := 0
	for label, blobs := range cases {
		i++
		ref := host + "/hostile/" + string(rune('a'+i)) + ":v1"
		push(t, ref, blobs)
		refused(t, label, ociSpec(ref), label == "over the limit")
	}
	if n := blobGets.count(); n != 0 {
		t.Errorf("%d blobs fetched from hostile manifests, want 0", n)
	}
}

func TestRegistryKey(t *testing.T) {
	for key, want := range map[string]string{
		"https://index.docker.io/v1/": name.DefaultRegistry,
		"docker.io":                   name.DefaultRegistry,
		"http://127.0.0.1:5000/v2/":   "127.0.0.1:5000",
		"Registry.Example.com":        "registry.example.com",
	} {
		if got := registryKey(key); got != want {
			t.Errorf("registryKey(%q) = %q, want %q", key, got, want)
		}
	}
}
