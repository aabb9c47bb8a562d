// Package source fetches a payload from its origin into a local directory or file: one or
// several HTTP(S) URLs, an artifact or image in an OCI registry, or a prefix of an S3 bucket.
// Only seeders touch an origin; leechers get the bytes from the swarm.
//
// Every byte from an origin is treated as an attacker's: names are checked before anything is
// written (no "..", no absolute path, no name twice), every file is written under a temporary
// name that is renamed into place only once all of it arrived and checked, the total size is
// bounded, and every network operation has a timeout (dial, TLS, response headers, and a stall
// timeout while a body flows).
package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/minibit-io/minibit/internal/backoff"
)

// Defaults of the Spec's zero values.
const (
	// DefaultMaxBytes is the total a source may fetch when Spec.MaxBytes is 0 (64 GiB).
	DefaultMaxBytes = 64 << 30
	// DefaultMaxRedirects is the redirects an HTTP request may follow when HTTP.MaxRedirects is 0.
	DefaultMaxRedirects = 10
	// DefaultTimeout bounds each dial, TLS handshake and wait for response headers.
	DefaultTimeout = 30 * time.Second
	// DefaultStallTimeout fails a transfer when no byte arrived for this long.
	DefaultStallTimeout = 30 * time.Second
	// MaxFiles is the most files one payload may have (metainfo's limit of a torrent).
	MaxFiles = 100000
)

// Spec says where a payload comes from and how much of it may come. Exactly one of HTTP, OCI
// and S3 is set.
type Spec struct {
	HTTP *HTTP
	OCI  *OCI
	S3   *S3
	// MaxBytes is the total bytes limit (0 = DefaultMaxBytes); a larger payload fails.
	MaxBytes int64
	// CAFile is an extra PEM CA bundle trusted for https, beside the system's (optional).
	CAFile string
	// Timeout bounds every dial, TLS handshake and wait for response headers (0 = DefaultTimeout).
	Timeout time.Duration
	// StallTimeout fails a transfer that receives no byte for this long (0 = DefaultStallTimeout).
	StallTimeout time.Duration
	// Retry is the policy of retried requests (zero = backoff.Default).
	Retry backoff.Policy
}

// HTTP is an origin of one or several HTTP(S) URLs.
type HTTP struct {
	// URLs: one URL is a single file (dest is a file path); several are a directory (dest is a
	// directory; each file is named by its URL path's last element, names unique and valid).
	URLs []string
	// SHA256 is the expected hex SHA-256 of the file, only with one URL (optional).
	SHA256 string
	// HeaderFile holds lines "Name: value" sent with every request (e.g. "Authorization:
	// Bearer x"); values are never logged and are not sent after a redirect to another host.
	HeaderFile string
	// MaxRedirects is the most redirects a request follows (0 = DefaultMaxRedirects).
	MaxRedirects int
}

// OCI is an artifact or image in an OCI registry. Layers become files named by their
// annotation org.opencontainers.image.title (ORAS); an image without titles gives each layer's
// digest ("sha256-<hex>") as its file name. Every blob's digest and size are checked.
type OCI struct {
	// Ref is registry/repo:tag or registry/repo@sha256:digest.
	Ref string
	// AuthFile is a .dockerconfigjson (a pull secret), optional.
	AuthFile string
	// PlainHTTP talks to the registry over http (a local registry).
	PlainHTTP bool
}

// S3 is a prefix of a bucket in S3-compatible storage: every object under Prefix becomes a
// file at its key relative to Prefix ("directory marker" keys ending in "/" are skipped).
type S3 struct {
	// Endpoint is host[:port] (or a URL whose scheme agrees with PlainHTTP).
	Endpoint string
	Bucket   string
	// Prefix selects the objects; one that does not end in "/" gets one ("" = the whole bucket).
	Prefix string
	// Region is the bucket's region ("" = us-east-1).
	Region string
	// CredentialsDir holds files AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and optionally
	// AWS_SESSION_TOKEN), a mounted Secret; "" requests anonymously.
	CredentialsDir string
	// PlainHTTP talks to the endpoint over http.
	PlainHTTP bool
}

// Result is what a Fetch wrote.
type Result struct {
	Files int   // regular files written
	Bytes int64 // their total size
	Dir   bool  // dest is a directory (false: a single file)
}

// ErrTooLarge is wrapped by the error of a payload over Spec.MaxBytes.
var ErrTooLarge = errors.New("the payload is larger than the size limit")

// Fetch fetches the payload of spec into dest: a file for a single URL, otherwise a directory.
// dest must not exist; it appears (by rename) only once the whole payload arrived and was
// checked. A failed Fetch leaves no file at dest and removes its temporary files.
func Fetch(ctx context.Context, log *slog.Logger, spec Spec, dest string) (Result, error) {
	spec, err := spec.withDefaults()
	if err != nil {
		return Result{}, err
	}
	if err := checkDestAbsent(dest); err != nil {
		return Result{}, err
	}
	switch {
	case spec.HTTP != nil:
		return fetchHTTP(ctx, log, spec, dest)
	case spec.OCI != nil:
		return fetchOCI(ctx, log, spec, dest)
	default:
		return fetchS3(ctx, log, spec, dest)
	}
}

// withDefaults checks that exactly one origin is set and fills the zero values.
func (s Spec) withDefaults() (Spec, error) {
	n := 0
	for _, set := range []bool{s.HTTP != nil, s.OCI != nil, s.S3 != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return s, fmt.Errorf("source: exactly one of http, oci and s3 must be given, got %d", n)
	}
	if s.MaxBytes < 0 || s.Timeout < 0 || s.StallTimeout < 0 {
		return s, errors.New("source: the size limit and timeouts must not be negative")
	}
	if s.MaxBytes == 0 {
		s.MaxBytes = DefaultMaxBytes
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.StallTimeout == 0 {
		s.StallTimeout = DefaultStallTimeout
	}
	if s.Retry == (backoff.Policy{}) {
		s.Retry = backoff.Default
	}
	return s, nil
}

// tooLarge is the error of a payload over limit.
func tooLarge(what string, limit int64) error {
	return fmt.Errorf("%s: %w (%d bytes)", what, ErrTooLarge, limit)
}
