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
	"time"

	"github.com/minibit-io/minibit/internal/backoff"
)

// idleReadTimeout drops an HTTP download that stalls: no byte for this long.
const idleReadTimeout = 30 * time.Second

// defaultMaxDownloadBytes is seed --max-bytes: the most an origin may send (64 GiB).
const defaultMaxDownloadBytes = 64 << 30

// download fetches url into file (the operator's "http" source): written to a temporary name
// beside it, at most maxBytes, checked against wantSHA (hex, optional) and renamed into place
// only then. Network failures are retried with the note's backoff; a checksum mismatch or a
// body over maxBytes is not.
func download(ctx context.Context, log *slog.Logger, url, wantSHA, file string, maxBytes int64, timeout time.Duration) error {
	wantSHA, err := parseSHA256("url-sha256", wantSHA)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout}).DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}}
	tmp := file + ".download"
	attempt := 0
	err = backoff.Retry(ctx, backoff.Default, func(ctx context.Context) error {
		attempt++
		sum, err := fetchTo(ctx, client, url, tmp, maxBytes)
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

// fetchTo GETs url into path, at most maxBytes, and returns the body's SHA-256 in hex.
func fetchTo(ctx context.Context, client *http.Client, url, path string, maxBytes int64) (string, error) {
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
	if resp.ContentLength > maxBytes {
		return "", backoff.Permanent(tooLarge(url, maxBytes))
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
	n, copyErr := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, maxBytes+1))
	body.timer.Stop()
	if err := errors.Join(copyErr, f.Sync(), f.Close()); err != nil {
		return "", fmt.Errorf("GET %s: %w", url, err)
	}
	if n > maxBytes {
		return "", backoff.Permanent(tooLarge(url, maxBytes))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// tooLarge is the error of a download over --max-bytes.
func tooLarge(url string, maxBytes int64) error {
	return fmt.Errorf("GET %s: the file is larger than --max-bytes (%d bytes)", url, maxBytes)
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
