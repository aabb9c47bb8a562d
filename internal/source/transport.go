package source

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"
)

// maxCABytes bounds the CA bundle file.
const maxCABytes = 4 << 20

// newTransport is the HTTP transport of every origin: timeouts on dial, TLS handshake and
// response headers, bounded response headers, the system's CAs plus spec.CAFile, and no
// transparent decompression (a resumed range must count the bytes as the origin sends them).
func newTransport(spec Spec) (*http.Transport, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if spec.CAFile != "" {
		pool, err := caPool(spec.CAFile)
		if err != nil {
			return nil, err
		}
		tlsConf.RootCAs = pool
	}
	return &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: spec.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    spec.Timeout,
		ResponseHeaderTimeout:  spec.Timeout,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		DisableCompression:     true,
		ForceAttemptHTTP2:      true,
	}, nil
}

// caPool is the system's CA pool with the PEM certificates of file added.
func caPool(file string) (*x509.CertPool, error) {
	pem, err := readSmallFile(file, maxCABytes)
	if err != nil {
		return nil, fmt.Errorf("source: CA bundle: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("source: CA bundle %s holds no PEM certificate", file)
	}
	return pool, nil
}

// readSmallFile reads file, refusing one over limit bytes.
func readSmallFile(file string, limit int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", file, limit)
	}
	return b, nil
}

// RedactURL is rawURL fit for a log: no user info, no query (presigned URLs carry their
// signature there), no fragment.
func RedactURL(rawURL string) string { return redact(rawURL) }

// redact is RedactURL.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "<unparsable URL>"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	u.Fragment = ""
	return u.String()
}

// stallGuard cancels a transfer's context when no byte arrived for its timeout.
type stallGuard struct {
	r       io.Reader
	timeout time.Duration
	timer   *time.Timer
	mu      sync.Mutex
	stalled bool
}

// newStallGuard returns a context that guard cancels on a stall of r, and the guard to read from;
// call stop when the transfer ends.
func newStallGuard(ctx context.Context, timeout time.Duration) (context.Context, *stallGuard, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	g := &stallGuard{timeout: timeout}
	g.timer = time.AfterFunc(timeout, func() {
		g.mu.Lock()
		g.stalled = true
		g.mu.Unlock()
		cancel()
	})
	return ctx, g, func() { g.timer.Stop(); cancel() }
}

// start guards r from now on (the response headers arrived).
func (g *stallGuard) start(r io.Reader) {
	g.r = r
	g.timer.Reset(g.timeout)
}

// Read reads from the guarded reader and re-arms the stall timer.
func (g *stallGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if n > 0 {
		g.timer.Reset(g.timeout)
	}
	return n, err
}

// wrap explains err when the guard fired.
func (g *stallGuard) wrap(err error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil && g.stalled {
		return fmt.Errorf("no byte for %s (stalled): %w", g.timeout, err)
	}
	return err
}
