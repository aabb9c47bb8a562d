package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/backoff"
	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/source/sourcetest"
)

// quick is a retry policy for tests: the same shape as the note's, in milliseconds.
var quick = backoff.Policy{Initial: time.Millisecond, Max: 10 * time.Millisecond, Multiplier: 2, Attempts: 3}

// testSpec is an HTTP spec of urls with quick retries.
func testSpec(urls ...string) Spec {
	return Spec{HTTP: &HTTP{URLs: urls}, Retry: quick, Timeout: 10 * time.Second, StallTimeout: 10 * time.Second}
}

// content is n deterministic bytes.
func content(t *testing.T, seed uint64, n int64) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c")
	if err := generate.WriteFile(path, seed, n); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// requestLog records the Range header of each request a test server received.
type requestLog struct {
	mu     sync.Mutex
	ranges []string
}

func (l *requestLog) add(r *http.Request) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ranges = append(l.ranges, r.Header.Get("Range"))
	return len(l.ranges)
}

func (l *requestLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ranges...)
}

// counter counts the requests that match (nil: every one) on their way to a handler.
type counter struct {
	match func(*http.Request) bool
	mu    sync.Mutex
	n     int
}

// wrap is h behind the count.
func (c *counter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.match == nil || c.match(r) {
			c.mu.Lock()
			c.n++
			c.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// count is the requests counted so far.
func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// dropServer serves body (with Range and If-Range) but cuts each of the first drops answers
// after dropAfter bytes. rangeOK false makes it ignore Range (always 200 and the whole body).
func dropServer(t *testing.T, body []byte, drops, dropAfter int, rangeOK bool) (*httptest.Server, *requestLog) {
	log := &requestLog{}
	modified := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		if !rangeOK {
			r.Header.Del("Range")
		}
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "f", modified, bytes.NewReader(body))
	})
	srv := httptest.NewServer(&sourcetest.Dropper{Handler: h, Every: int64(dropAfter), Times: int64(drops)})
	t.Cleanup(srv.Close)
	return srv, log
}

func fetchOK(t *testing.T, spec Spec, dest string) Result {
	t.Helper()
	res, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), spec, dest)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d expected", path, len(got), len(want))
	}
}

// A server that drops the connection mid-file five times: each retry resumes with Range and
// If-Range where the last stopped, so the server sends the file about once, not six times.
func TestHTTPResumesAfterDroppedConnections(t *testing.T) {
	body := content(t, 1, 3<<20)
	srv, log := dropServer(t, body, 5, 300<<10, true)
	sum := sha256.Sum256(body)
	spec := testSpec(srv.URL + "/model.bin")
	spec.HTTP.SHA256 = hex.EncodeToString(sum[:])
	dest := filepath.Join(t.TempDir(), "model.bin")

	res := fetchOK(t, spec, dest)
	sameFile(t, dest, body)
	if res != (Result{Files: 1, Bytes: int64(len(body))}) {
		t.Errorf("result %+v", res)
	}
	ranges := log.get()
	if len(ranges) != 6 || ranges[0] != "" {
		t.Fatalf("requests' ranges %q, want 6 requests, the first without Range", ranges)
	}
	for i, r := range ranges[1:] {
		if want := fmt.Sprintf("bytes=%d-%d", (i+1)*(300<<10), len(body)-1); r != want {
			t.Errorf("request %d asked %q, want %q (resumed where the drop cut it)", i+2, r, want)
		}
	}
	if _, err := os.Stat(dest + ".download"); !os.IsNotExist(err) {
		t.Error("the temporary file is left behind")
	}
}

// An origin that ignores Range answers 200 with the whole file: the download restarts cleanly
// from byte 0 each time instead of appending it to what it had.
func TestHTTPOriginIgnoringRangeRestartsCleanly(t *testing.T) {
	body := content(t, 2, 1<<20)
	srv, log := dropServer(t, body, 3, 200<<10, false)
	dest := filepath.Join(t.TempDir(), "f")
	fetchOK(t, testSpec(srv.URL+"/f"), dest)
	sameFile(t, dest, body)
	if n := len(log.get()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

// Several URLs make a directory named by the URLs' last path elements.
func TestHTTPSeveralURLsMakeADirectory(t *testing.T) {
	a, b := content(t, 3, 100<<10), content(t, 4, 5)
	mux := http.NewServeMux()
	mux.HandleFunc("/x/config.json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(b) })
	mux.HandleFunc("/y/shard-1.bin", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(a) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "model")
	res := fetchOK(t, testSpec(srv.URL+"/y/shard-1.bin", srv.URL+"/x/config.json?sig=1"), dest)
	if res != (Result{Files: 2, Bytes: int64(len(a) + len(b)), Dir: true}) {
		t.Errorf("result %+v", res)
	}
	sameFile(t, filepath.Join(dest, "shard-1.bin"), a)
	sameFile(t, filepath.Join(dest, "config.json"), b)
	if _, err := os.Stat(dest + ".partial"); !os.IsNotExist(err) {
		t.Error("the partial directory is left behind")
	}
}

func TestHTTPRefusesBadURLLists(t *testing.T) {
	for name, urls := range map[string][]string{
		"same name":  {"http://127.0.0.1:1/a/f", "http://127.0.0.1:1/b/f"},
		"dot dot":    {"http://127.0.0.1:1/a/..", "http://127.0.0.1:1/b"},
		"no name":    {"http://127.0.0.1:1/", "http://127.0.0.1:1/b"},
		"not http":   {"file:///etc/passwd", "http://127.0.0.1:1/b"},
		"no url":     {},
		"ftp single": {"ftp://127.0.0.1/x"},
	} {
		dest := filepath.Join(t.TempDir(), "d")
		_, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), testSpec(urls...), dest)
		if err == nil || strings.Contains(err.Error(), "connect") {
			t.Errorf("%s: err %v, want a refusal before any request", name, err)
		}
		if _, err := os.Stat(dest); !os.IsNotExist(err) {
			t.Errorf("%s: dest exists", name)
		}
	}
}

// writeCA writes srv's certificate as a PEM bundle.
func writeCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.crt")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A TLS origin signed by a private CA that wants a bearer token: the CA bundle and the header
// file make it work; without the bundle the certificate is refused at once (not retried); the
// token never appears in the logs.
func TestHTTPSWithCABundleAndBearerHeader(t *testing.T) {
	const token = "s3cr3t-t0ken"
	body := content(t, 5, 64<<10)
	requests := &counter{}
	srv := httptest.NewTLSServer(requests.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write(body)
	})))
	defer srv.Close()
	headers := filepath.Join(t.TempDir(), "headers")
	if err := os.WriteFile(headers, []byte("# a Secret\nAuthorization: Bearer "+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	spec := testSpec(srv.URL + "/w.bin")
	spec.HTTP.HeaderFile = headers
	dest := filepath.Join(t.TempDir(), "w.bin")
	_, err := Fetch(context.Background(), log, spec, dest)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA bundle: err %v, want a certificate error", err)
	}
	if n := requests.count(); n != 0 {
		t.Errorf("%d requests reached the handler without TLS trust", n)
	}

	spec.HTTP.HeaderFile = ""
	spec.CAFile = writeCA(t, srv)
	if _, err := Fetch(context.Background(), log, spec, dest); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("without the header: err %v, want 401", err)
	}
	if n := requests.count(); n != 1 {
		t.Errorf("a 401 was tried %d times, want once", n)
	}

	spec.HTTP.HeaderFile = headers
	fetchOK(t, spec, dest)
	sameFile(t, dest, body)
	if strings.Contains(logs.String(), token) {
		t.Error("the token is in the logs")
	}
}

func TestHeaderFileRefusesBadLines(t *testing.T) {
	for name, text := range map[string]string{
		"no colon":    "Authorization Bearer x\n",
		"bad name":    "Auth orization: x\n",
		"CR in value": "X-A: a\rb\n",
		"reserved":    "Range: bytes=0-\n",
	} {
		path := filepath.Join(t.TempDir(), "h")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := readHeaderFile(path)
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "Bearer") {
			t.Errorf("%s: the error shows a value: %v", name, err)
		}
	}
}

// Bodies over the limit, with or without Content-Length, fail at once and leave nothing.
func TestHTTPBodyOverTheLimit(t *testing.T) {
	body := content(t, 6, 10000)
	requests := &counter{}
	srv := httptest.NewServer(requests.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length: chunked
		}
		_, _ = w.Write(body)
	})))
	defer srv.Close()
	for _, p := range []string{"/sized", "/chunked"} {
		spec := testSpec(srv.URL + p)
		spec.MaxBytes = 9999
		dest := filepath.Join(t.TempDir(), "f")
		_, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), spec, dest)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err %v, want ErrTooLarge", p, err)
		}
		if m, _ := filepath.Glob(dest + "*"); len(m) != 0 {
			t.Errorf("%s: left %v", p, m)
		}
	}
	if n := requests.count(); n != 2 {
		t.Errorf("%d requests, want 2 (too large is not retried)", n)
	}
}

// The limit is on the whole directory: files each under it but together over it fail.
func TestHTTPLimitIsOnTheTotal(t *testing.T) {
	body := content(t, 9, 600)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	defer srv.Close()
	spec := testSpec(srv.URL+"/a", srv.URL+"/b")
	spec.MaxBytes = 1000
	dest := filepath.Join(t.TempDir(), "d")
	if _, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), spec, dest); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v, want ErrTooLarge", err)
	}
	noLeftovers(t, dest)
}

// A redirect loop stops after MaxRedirects; a redirect from https to http is refused.
func TestHTTPRedirectsAreBounded(t *testing.T) {
	hops := &counter{}
	loop := httptest.NewServer(hops.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
	})))
	defer loop.Close()
	spec := testSpec(loop.URL + "/a")
	spec.HTTP.MaxRedirects = 3
	_, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), spec, filepath.Join(t.TempDir(), "f"))
	if err == nil || !strings.Contains(err.Error(), "more than 3 redirects") {
		t.Fatalf("loop: err %v", err)
	}
	if n := hops.count(); n != 4 {
		t.Errorf("%d requests, want 4 (the first and 3 redirects, not retried)", n)
	}

	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("x")) }))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/f", http.StatusFound))
	defer tlsSrv.Close()
	spec = testSpec(tlsSrv.URL + "/f")
	spec.CAFile = writeCA(t, tlsSrv)
	_, err = Fetch(context.Background(), slog.New(slog.DiscardHandler), spec, filepath.Join(t.TempDir(), "f"))
	if err == nil || !strings.Contains(err.Error(), "from https to http") {
		t.Fatalf("https to http: err %v", err)
	}
}

// A body that stops flowing is cut by the stall timeout and resumed.
func TestHTTPStallIsCutAndResumed(t *testing.T) {
	body := content(t, 7, 256<<10)
	release := make(chan struct{})
	defer close(release)
	log := &requestLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"e"`)
		if log.add(r) == 1 {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			_, _ = w.Write(body[:1000])
			http.NewResponseController(w).Flush()
			select { // stall until the client gives up
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(body))
	}))
	defer srv.Close()
	spec := testSpec(srv.URL + "/f")
	spec.StallTimeout = 300 * time.Millisecond
	dest := filepath.Join(t.TempDir(), "f")
	fetchOK(t, spec, dest)
	sameFile(t, dest, body)
	// (a busy machine may stall the second answer too: only the first resume is asserted)
	if r := log.get(); len(r) < 2 || r[1] != fmt.Sprintf("bytes=1000-%d", len(body)-1) {
		t.Errorf("ranges %q, want a resume at 1000", r)
	}
}

// A Content-Range that does not continue where the download stopped is not appended.
func TestHTTPWrongContentRangeRestarts(t *testing.T) {
	body := content(t, 8, 50000)
	log := &requestLog{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		w.Header().Set("ETag", `"e"`)
		if r.Header.Get("Range") != "" {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(body)-1, len(body)))
			w.WriteHeader(http.StatusPartialContent)
			_, _ = w.Write(body)
			return
		}
		http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(body))
	})
	srv := httptest.NewServer(&sourcetest.Dropper{Handler: h, Every: 1234, Times: 1})
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "f")
	fetchOK(t, testSpec(srv.URL+"/f"), dest)
	sameFile(t, dest, body)
}

// A presigned URL's query (its signature) appears in no error.
func TestHTTPErrorsHideTheQuery(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // connections are refused
	_, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), testSpec(srv.URL+"/f?X-Amz-Signature=topsecret"), filepath.Join(t.TempDir(), "f"))
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("err %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@h/p/f.bin?X-Amz-Signature=s#frag": "https://h/p/f.bin?REDACTED",
		"http://h:8080/a": "http://h:8080/a",
		"::":              "<unparsable URL>",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFetchRefusesAnExistingDestAndBadSpecs(t *testing.T) {
	dest := t.TempDir()
	if _, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), testSpec("http://127.0.0.1:1/f"), dest); err == nil {
		t.Error("an existing dest was accepted")
	}
	two := Spec{HTTP: &HTTP{URLs: []string{"http://127.0.0.1:1/f"}}, S3: &S3{}}
	if _, err := Fetch(context.Background(), slog.New(slog.DiscardHandler), two, filepath.Join(dest, "x")); err == nil {
		t.Error("two sources were accepted")
	}
}

// Every failed attempt is logged, the last too when no retry can fix it (a 404 here): an
// operator reading the seeder's log sees what the origin answered.
func TestHTTPLogsAFailureThatIsNotRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	_, err := Fetch(context.Background(), log, testSpec(srv.URL+"/missing.bin"), filepath.Join(t.TempDir(), "f"))
	if err == nil {
		t.Fatal("a 404 fetched")
	}
	if n := strings.Count(logs.String(), `msg="Download failed"`); n != 1 || !strings.Contains(logs.String(), "404") {
		t.Fatalf("%d failure lines, want 1 naming the 404:\n%s", n, logs.String())
	}
}
