package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/minibit-io/minibit/internal/backoff"
)

// maxResumes bounds the resumed attempts of one file (each one made progress).
const maxResumes = 1000

// errRedirect marks a refused redirect: too many, or from https to http.
var errRedirect = errors.New("redirect refused")

// fetchHTTP fetches one URL into the file dest, or several into the directory dest.
func fetchHTTP(ctx context.Context, log *slog.Logger, spec Spec, dest string) (Result, error) {
	h := spec.HTTP
	if len(h.URLs) == 0 {
		return Result{}, errors.New("source: http: no URL")
	}
	g, err := newHTTPGetter(log, spec)
	if err != nil {
		return Result{}, err
	}
	if len(h.URLs) == 1 {
		return g.fetchOne(ctx, h.URLs[0], h.SHA256, dest)
	}
	if h.SHA256 != "" {
		return Result{}, errors.New("source: http: a SHA-256 is only checked with one URL")
	}
	names, err := urlNames(h.URLs)
	if err != nil {
		return Result{}, err
	}
	return g.fetchMany(ctx, h.URLs, names, dest)
}

// urlNames is each URL's file name: the last element of its path, checked and unique.
func urlNames(urls []string) ([]string, error) {
	if len(urls) > MaxFiles {
		return nil, fmt.Errorf("source: http: %d URLs, more than %d", len(urls), MaxFiles)
	}
	names := make([]string, len(urls))
	seen := make(map[string]bool, len(urls))
	for i, raw := range urls {
		u, err := parseHTTPURL(raw)
		if err != nil {
			return nil, err
		}
		name := path.Base(u.Path)
		if err := checkName(name); err != nil || u.Path == "" || strings.HasSuffix(u.Path, "/") {
			return nil, fmt.Errorf("source: http: %s names no file (the last element of its path is its file name)", redact(raw))
		}
		if seen[name] {
			return nil, fmt.Errorf("source: http: two URLs name the file %q", name)
		}
		seen[name], names[i] = true, name
	}
	return names, nil
}

// parseHTTPURL parses an http or https URL.
func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("source: http: %s is not an http(s) URL", redact(raw))
	}
	return u, nil
}

// httpGetter downloads URLs with one client, the header file's headers and the spec's limits.
type httpGetter struct {
	log    *slog.Logger
	spec   Spec
	client *http.Client
	header http.Header
}

// newHTTPGetter builds the client: transport timeouts, the CA bundle, bounded redirects.
func newHTTPGetter(log *slog.Logger, spec Spec) (*httpGetter, error) {
	header, err := readHeaderFile(spec.HTTP.HeaderFile)
	if err != nil {
		return nil, err
	}
	tr, err := newTransport(spec)
	if err != nil {
		return nil, err
	}
	maxRedirects := spec.HTTP.MaxRedirects
	if maxRedirects == 0 {
		maxRedirects = DefaultMaxRedirects
	}
	g := &httpGetter{log: log, spec: spec, header: header}
	g.client = &http.Client{Transport: tr, CheckRedirect: g.checkRedirect(maxRedirects)}
	return g, nil
}

// checkRedirect follows at most limit redirects, never from https to http, and drops the
// header file's headers on a redirect to another host.
func (g *httpGetter) checkRedirect(limit int) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > limit {
			return fmt.Errorf("%w: more than %d redirects", errRedirect, limit)
		}
		prev := via[len(via)-1].URL
		if prev.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("%w: from https to %s", errRedirect, req.URL.Scheme)
		}
		if req.URL.Host != via[0].URL.Host {
			for name := range g.header {
				req.Header.Del(name)
			}
		}
		return nil
	}
}

// fetchOne downloads rawURL to dest through the temporary file "<dest>.download".
func (g *httpGetter) fetchOne(ctx context.Context, rawURL, wantSHA, dest string) (Result, error) {
	wantSHA = strings.ToLower(strings.TrimSpace(wantSHA))
	if b, err := hex.DecodeString(wantSHA); wantSHA != "" && (err != nil || len(b) != sha256.Size) {
		return Result{}, errors.New("source: http: the SHA-256 must be 64 hex digits")
	}
	tmp := dest + ".download"
	n, err := g.fetchToFile(ctx, rawURL, wantSHA, tmp, g.spec.MaxBytes)
	if err != nil {
		_ = os.Remove(tmp)
		return Result{}, err
	}
	if err := os.Rename(tmp, dest); err != nil {
		_ = os.Remove(tmp)
		return Result{}, err
	}
	syncDir(filepath.Dir(dest))
	return Result{Files: 1, Bytes: n}, nil
}

// fetchToFile downloads rawURL into the new file name (at most limit bytes), checks wantSHA
// (hex, "" for none) and syncs it.
func (g *httpGetter) fetchToFile(ctx context.Context, rawURL, wantSHA, name string, limit int64) (int64, error) {
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644) // a leftover (or a symlink) is never followed
	if err != nil {
		return 0, err
	}
	return g.fetchInto(ctx, rawURL, wantSHA, f, limit)
}

// fetchInto downloads rawURL into f, checks wantSHA, syncs and closes f.
func (g *httpGetter) fetchInto(ctx context.Context, rawURL, wantSHA string, f *os.File, limit int64) (int64, error) {
	d := &download{url: rawURL, f: f, h: sha256.New(), limit: limit, size: -1}
	err := g.download(ctx, d)
	if err == nil && wantSHA != "" {
		if got := hex.EncodeToString(d.h.Sum(nil)); got != wantSHA {
			err = fmt.Errorf("source: http: %s: SHA-256 is %s, expected %s", redact(rawURL), got, wantSHA)
		}
	}
	if err == nil {
		err = f.Sync()
	}
	return d.n, errors.Join(err, f.Close())
}

// fetchMany downloads each URL to its name in the directory dest (through "<dest>.partial").
func (g *httpGetter) fetchMany(ctx context.Context, urls, names []string, dest string) (Result, error) {
	var total int64
	return fillDir(dest, len(urls), func(pd *partialDir, i int) (int64, error) {
		f, err := pd.create(names[i])
		if err != nil {
			return 0, err
		}
		n, err := g.fetchInto(ctx, urls[i], "", f, g.spec.MaxBytes-total)
		total += n
		return n, err
	})
}

// download runs the attempts of d with g's requests.
func (g *httpGetter) download(ctx context.Context, d *download) error {
	return retryResuming(ctx, g.log, g.spec.Retry, d, g.attempt)
}

// retryResuming runs attempt on d: each failed attempt is retried with policy; an attempt that
// made progress and then failed starts a fresh series of retries that resumes where it stopped
// (at most maxResumes times). A fatalError is not retried.
func retryResuming(ctx context.Context, log *slog.Logger, policy backoff.Policy, d *download, attempt func(context.Context, *download) error) error {
	for resumes := 0; ; resumes++ {
		tries := 0
		err := backoff.Retry(ctx, policy, func(ctx context.Context) error {
			tries++
			if d.n > 0 && d.n == d.size {
				return nil // every byte arrived before the connection failed
			}
			before := d.n
			err := attempt(ctx, d)
			var fatal *fatalError
			switch {
			case err == nil:
				return nil
			case errors.As(err, &fatal):
				log.Warn("Download failed", "url", redact(d.url), "attempt", tries, "offset", d.n, "err", err, "retry", false)
				return backoff.Permanent(err)
			case d.n > before && ctx.Err() == nil:
				return backoff.Permanent(&progressError{err: err})
			}
			log.Warn("Download failed", "url", redact(d.url), "attempt", tries, "offset", d.n, "err", err)
			return err
		})
		var progress *progressError
		if !errors.As(err, &progress) {
			return err
		}
		if resumes >= maxResumes {
			return fmt.Errorf("source: %s: gave up after %d resumed attempts: %w", redact(d.url), resumes, progress.err)
		}
		log.Info("Download interrupted, resuming", "url", redact(d.url), "offset", d.n, "err", progress.err)
	}
}

// fatalError is a failure no retry can fix (a 4xx answer, a refused redirect, a body over the
// limit, a local disk error).
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// fatal wraps err as a fatalError.
func fatal(err error) error { return &fatalError{err: err} }

// progressError is a failed attempt that received bytes: the download resumes at once.
type progressError struct{ err error }

func (e *progressError) Error() string { return e.err.Error() }
func (e *progressError) Unwrap() error { return e.err }
