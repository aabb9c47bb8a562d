package source

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"

	"github.com/minibit-io/minibit/internal/source/sourcetest"
)

// isObjectGet tells a GET of one object from a listing or a bucket request (path-style).
func isObjectGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Count(strings.Trim(r.URL.Path, "/"), "/") >= 1 && r.URL.RawQuery == ""
}

// startS3 runs gofakes3 on 127.0.0.1 (wanting accessKey when set) behind wrap (nil: none).
func startS3(t *testing.T, accessKey string, wrap func(http.Handler) http.Handler) (string, gofakes3.Backend) {
	t.Helper()
	h, backend := sourcetest.NewS3(accessKey)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), backend
}

func putObject(t *testing.T, b gofakes3.Backend, bucket, key string, data []byte) {
	t.Helper()
	if err := b.CreateBucket(bucket); err != nil && !gofakes3.HasErrorCode(err, gofakes3.ErrBucketAlreadyExists) {
		t.Fatal(err)
	}
	if _, err := b.PutObject(bucket, key, sourcetest.ObjectMeta(), bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
}

// credentialsDir writes the files of a mounted credentials Secret.
func credentialsDir(t *testing.T, id, secret string) string {
	t.Helper()
	dir := t.TempDir()
	for name, v := range map[string]string{"AWS_ACCESS_KEY_ID": id + "\n", "AWS_SECRET_ACCESS_KEY": secret} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func s3Spec(endpoint, bucket, prefix string) Spec {
	s := testSpec()
	s.HTTP = nil
	s.S3 = &S3{Endpoint: endpoint, Bucket: bucket, Prefix: prefix, PlainHTTP: true}
	return s
}

// Every object under the prefix becomes a file at its key relative to the prefix; directory
// markers and keys beside the prefix are left out; object answers cut mid-body are resumed.
func TestS3PrefixBecomesADirectory(t *testing.T) {
	cut := func(h http.Handler) http.Handler {
		d := &sourcetest.Dropper{Handler: h, Every: 100 << 10}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isObjectGet(r) {
				d.ServeHTTP(w, r)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	endpoint, backend := startS3(t, "AKIDTEST", cut)
	files := map[string][]byte{
		"config.json":        []byte(`{}`),
		"shards/0001.bin":    content(t, 20, 450<<10),
		"shards/deep/x.bin":  content(t, 21, 10),
		"zero-length-object": nil,
	}
	for p, b := range files {
		putObject(t, backend, "models", "llm/"+p, b)
	}
	putObject(t, backend, "models", "llm/shards/", nil) // a console's "directory marker"
	putObject(t, backend, "models", "llm2/not-mine", []byte("x"))
	putObject(t, backend, "models", "other", []byte("y"))

	spec := s3Spec("http://"+endpoint, "models", "llm")
	spec.S3.CredentialsDir = credentialsDir(t, "AKIDTEST", "secret")
	dest := filepath.Join(t.TempDir(), "llm")
	res := fetchOK(t, spec, dest)
	if res.Files != len(files) || !res.Dir {
		t.Errorf("result %+v", res)
	}
	for p, b := range files {
		sameFile(t, filepath.Join(dest, filepath.FromSlash(p)), b)
	}
	entries, _ := os.ReadDir(dest)
	if len(entries) != 3 {
		t.Errorf("%d entries at the top, want 3 (config.json, shards, zero-length-object)", len(entries))
	}
}

// Without the credentials the server denies; that is not retried.
func TestS3DeniedIsNotRetried(t *testing.T) {
	requests := &counter{}
	endpoint, backend := startS3(t, "AKIDTEST", requests.wrap)
	putObject(t, backend, "bkt", "f", []byte("x"))
	spec := s3Spec(endpoint, "bkt", "")
	spec.S3.CredentialsDir = credentialsDir(t, "WRONG", "secret")
	dest := filepath.Join(t.TempDir(), "d")
	_, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), spec, dest)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("err %v, want a 403", err)
	}
	if n := requests.count(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	noLeftovers(t, dest)
}

// Hostile keys and an oversized prefix are refused before any object is fetched.
func TestS3RefusesHostileListings(t *testing.T) {
	gets := &counter{match: isObjectGet}
	endpoint, backend := startS3(t, "", gets.wrap)
	cases := map[string][]string{
		"dot dot":       {"../../etc/x"},
		"empty element": {"a//x"},
		"dot":           {"./x"},
		"file and dir":  {"a", "a/b"},
		"too large":     {"big"},
	}
	i := 0
	for label, keys := range cases {
		i++
		prefix := "p" + string(rune('a'+i)) + "/"
		for _, k := range keys {
			data := []byte("x")
			if k == "big" {
				data = make([]byte, 2000)
			}
			putObject(t, backend, "evil", prefix+k, data)
		}
		refused(t, label, s3Spec(endpoint, "evil", prefix), label == "too large")
	}
	if n := gets.count(); n != 0 {
		t.Errorf("%d objects fetched from hostile listings", n)
	}
}

// flipWriter flips the first byte of a body: bytes that do not match their ETag.
type flipWriter struct {
	http.ResponseWriter
	done bool
}

func (w *flipWriter) Write(p []byte) (int, error) {
	if !w.done && len(p) > 0 {
		w.done = true
		q := append([]byte(nil), p...)
		q[0] ^= 0xff
		return w.ResponseWriter.Write(q)
	}
	return w.ResponseWriter.Write(p)
}

// An object whose bytes do not match its MD5 ETag fails the fetch.
func TestS3BytesNotMatchingTheETag(t *testing.T) {
	flip := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isObjectGet(r) {
				w = &flipWriter{ResponseWriter: w}
			}
			h.ServeHTTP(w, r)
		})
	}
	endpoint, backend := startS3(t, "", flip)
	putObject(t, backend, "bkt", "d/f", content(t, 22, 5000))
	dest := filepath.Join(t.TempDir(), "d")
	_, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), s3Spec(endpoint, "bkt", "d"), dest)
	if err == nil || !strings.Contains(err.Error(), "MD5") {
		t.Fatalf("err %v, want an MD5 mismatch", err)
	}
	noLeftovers(t, dest)
}

func TestS3Endpoint(t *testing.T) {
	for _, c := range []struct {
		endpoint string
		plain    bool
		want     string
	}{
		{"minio:9000", true, "minio:9000"},
		{"http://minio:9000", true, "minio:9000"},
		{"https://s3.example.com", false, "s3.example.com"},
		{"http://minio:9000", false, ""},
		{"https://s3.example.com/bucket", false, ""},
		{"ftp://x", true, ""},
	} {
		got, err := s3Host(c.endpoint, c.plain)
		if (err == nil) != (c.want != "") || got != c.want {
			t.Errorf("s3Host(%q, %t) = %q, %v; want %q", c.endpoint, c.plain, got, err, c.want)
		}
	}
}
