package source

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// download is one file's transfer: the bytes written so far (n, hashed into h as they are
// written) and the validator (a strong ETag or Last-Modified) that lets a retry resume.
type download struct {
	url       string
	f         io.WriteSeeker
	h         hash.Hash
	n         int64  // bytes written
	limit     int64  // most bytes this file may have
	size      int64  // the whole file's size when known (a closed Range asks for the rest), else -1
	validator string // If-Range of a resumed request; "" starts again from byte 0
	immutable bool   // content addressed (an OCI blob): resume without a validator
}

// restart drops what was written: the next bytes are the file's first.
func (d *download) restart() error {
	if _, err := d.f.Seek(0, io.SeekStart); err != nil {
		return fatal(err)
	}
	if t, ok := d.f.(interface{ Truncate(int64) error }); ok {
		if err := t.Truncate(0); err != nil {
			return fatal(err)
		}
	}
	d.h.Reset()
	d.n = 0
	return nil
}

// attempt makes one request for the rest of d (from d.n, with Range and If-Range when it has a
// validator) and writes what arrives.
func (g *httpGetter) attempt(ctx context.Context, d *download) error {
	if d.n > 0 && d.validator == "" && !d.immutable {
		g.log.Info("HTTP origin gave no validator (strong ETag or Last-Modified): restarting from byte 0", "url", redact(d.url), "offset", d.n)
		if err := d.restart(); err != nil {
			return err
		}
	}
	ctx, guard, stop := newStallGuard(ctx, g.spec.StallTimeout)
	defer stop()
	resp, err := g.get(ctx, d)
	if err != nil {
		return guard.wrap(err)
	}
	defer resp.Body.Close()
	if err := g.accept(resp, d); err != nil {
		return err
	}
	guard.start(resp.Body)
	return guard.wrap(d.write(guard))
}

// get sends the request of d's next attempt.
func (g *httpGetter) get(ctx context.Context, d *download) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
	if err != nil {
		return nil, fatal(fmt.Errorf("source: http: %s: %w", redact(d.url), err))
	}
	for name, values := range g.header {
		req.Header[name] = values
	}
	if d.n > 0 {
		end := ""
		if d.size > 0 {
			end = strconv.FormatInt(d.size-1, 10) // some registries want a closed range
		}
		req.Header.Set("Range", "bytes="+strconv.FormatInt(d.n, 10)+"-"+end)
		if d.validator != "" {
			req.Header.Set("If-Range", d.validator)
		}
	}
	resp, err := g.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redact(ue.URL) // a presigned URL's query is a secret
		}
		var certErr *tls.CertificateVerificationError
		if errors.Is(err, errRedirect) || errors.As(err, &certErr) {
			return nil, fatal(fmt.Errorf("source: http: %w", err))
		}
		return nil, fmt.Errorf("source: http: %w", err)
	}
	return resp, nil
}

// accept checks the answer's status and size and prepares d to take its body: a 206 must
// continue at d.n; a 200 is the whole file (an origin that ignores Range or whose file changed
// restarts the download from byte 0).
func (g *httpGetter) accept(resp *http.Response, d *download) error {
	where := "source: http: GET " + redact(d.url)
	switch {
	case resp.StatusCode == http.StatusPartialContent && d.n > 0:
		if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != d.n {
			err := fmt.Errorf("%s: Content-Range %q does not continue at byte %d", where, resp.Header.Get("Content-Range"), d.n)
			d.validator = ""
			return errors.Join(err, d.restart())
		}
	case resp.StatusCode == http.StatusOK:
		if d.n > 0 {
			g.log.Info("HTTP origin sent the whole file again (Range ignored, or the file changed): restarting from byte 0", "url", redact(d.url), "offset", d.n)
			if err := d.restart(); err != nil {
				return err
			}
		}
		d.validator = validator(resp.Header)
		if !d.immutable { // the file may have changed; a blob's size is its manifest's
			d.size = resp.ContentLength
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && d.n > 0:
		err := fmt.Errorf("%s: resuming at byte %d: %s", where, d.n, resp.Status)
		return errors.Join(err, d.restart())
	default:
		err := fmt.Errorf("%s: %s", where, resp.Status)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
			return fatal(err)
		}
		return err
	}
	if resp.ContentLength > d.limit-d.n {
		return fatal(tooLarge(where, d.limit))
	}
	return nil
}

// write copies body to d's file (at most to d's limit) while hashing it.
func (d *download) write(body io.Reader) error {
	w := io.MultiWriter(fileWriter{d.f}, d.h)
	n, err := io.Copy(w, io.LimitReader(body, d.limit-d.n+1))
	d.n += n
	if d.n > d.limit {
		return fatal(tooLarge("source: GET "+redact(d.url), d.limit))
	}
	if err != nil {
		var we *writeError
		if errors.As(err, &we) {
			return fatal(err)
		}
		return fmt.Errorf("source: GET %s: after %d bytes: %w", redact(d.url), d.n, err)
	}
	return nil
}

// fileWriter tells a failure of our disk (not retried) from one of the network.
type fileWriter struct{ w io.Writer }

func (f fileWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		err = &writeError{err: err}
	}
	return n, err
}

// writeError is a failed write to the local file.
type writeError struct{ err error }

func (e *writeError) Error() string { return "writing the file: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// validator is the If-Range value that lets a later request resume: a strong ETag, else
// Last-Modified, else "".
func validator(h http.Header) string {
	if etag := h.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		return etag
	}
	return h.Get("Last-Modified")
}

// contentRangeStart is the first byte of a Content-Range "bytes start-end/total".
func contentRangeStart(v string) (int64, bool) {
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, false
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(start, 10, 64)
	return n, err == nil && n >= 0
}
