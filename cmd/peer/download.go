package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minibit-io/minibit/internal/backoff"
)

// idleReadTimeout drops an HTTP download that stalls: no byte for this long.
const idleReadTimeout = 30 * time.Second

// download fetches url into file (the operator's "http" source): written to a temporary name
// beside it, checked against wantSHA (hex, optional) and renamed into place only then. Network
// failures are retried with the note's backoff; a checksum mismatch is not.
func download(ctx context.Context, log *slog.Logger, url, wantSHA, file string, timeout time.Duration) error {
	wantSHA = strings.ToLower(strings.TrimSpace(wantSHA))
	if wantSHA != "" {
		if b, err := hex.DecodeString(wantSHA); err != nil || len(b) != sha256.Size {
			return usagef("--url-sha256 must be 64 hex digits, got %q", wantSHA)
		}
	}
	client := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout}).DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}}
	tmp := file + ".download"
	attempt := 0
	err := backoff.Retry(ctx, backoff.Default, func(ctx context.Context) error {
		attempt++
		sum, err := fetchTo(ctx, client, url, tmp)
		if err != nil {
			log.Warn("Download failed", "url", url, "attempt", attempt, "err", err)
			return err
		}
		if wantSHA != "" && sum != wantSHA {
			return backoff.Permanent(fmt.Errorf("download %s: SHA-256 is %s, --url-sha256 says %s", url, sum, wantSHA))
		}
		return nil
	})
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, file)
}

// fetchTo GETs url into path and returns the body's SHA-256 in hex.
func fetchTo(ctx context.Context, client *http.Client, url, path string) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", backoff.Permanent(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("GET %s: %s", url, resp.Status)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return "", backoff.Permanent(err)
		}
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", backoff.Permanent(err)
	}
	f, err := os.Create(path)
	if err != nil {
		return "", backoff.Permanent(err)
	}
	h := sha256.New()
	body := &idleReader{r: resp.Body, timer: time.AfterFunc(idleReadTimeout, cancel)}
	_, copyErr := io.Copy(io.MultiWriter(f, h), body)
	body.timer.Stop()
	if err := errors.Join(copyErr, f.Sync(), f.Close()); err != nil {
		return "", fmt.Errorf("GET %s: %w", url, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// idleReader re-arms timer on each read: the download is cancelled when it stalls.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.timer.Reset(idleReadTimeout)
	return n, err
}
