package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/minibit-io/minibit/internal/source/sourcetest"
)

// addrs are the addresses the servers listen on ("" when not started).
type addrs struct{ HTTP, Registry, S3 string }

// origin is the running servers.
type origin struct {
	log     *slog.Logger
	servers []*http.Server
	errs    chan error
	ready   atomic.Bool
	cleanup []func()
}

// run serves cfg until ctx ends: HTTP first (its /healthz says 503 until the pushes are done),
// then the registry with the artifact pushed, then the bucket filled; onReady (optional) gets
// the addresses once everything is served.
func run(ctx context.Context, log *slog.Logger, cfg config, onReady func(addrs)) error {
	if info, err := os.Stat(cfg.dir); err != nil || !info.IsDir() {
		return fmt.Errorf("--dir %s is not a directory", cfg.dir)
	}
	o := &origin{log: log, errs: make(chan error, 3)}
	defer o.shutdown()
	var a addrs
	var err error
	if cfg.httpAddr != "" {
		if a.HTTP, err = o.serve(ctx, cfg.httpAddr, "http", o.httpHandler(cfg)); err != nil {
			return err
		}
	}
	if cfg.regAddr != "" {
		if a.Registry, err = o.serveRegistry(ctx, cfg); err != nil {
			return err
		}
	}
	if cfg.s3Addr != "" {
		if a.S3, err = o.serveS3(ctx, cfg); err != nil {
			return err
		}
	}
	o.ready.Store(true)
	log.Info("Origin ready", "dir", cfg.dir, "http", a.HTTP, "registry", a.Registry, "s3", a.S3,
		"repo", cfg.repo, "tag", cfg.tag, "bucket", cfg.bucket, "dropEvery", cfg.dropEvery)
	if onReady != nil {
		onReady(a)
	}
	select {
	case <-ctx.Done():
		log.Info("Origin stopping", "reason", context.Cause(ctx))
		return nil
	case err := <-o.errs:
		return err
	}
}

// serve listens on addr and serves h there, logging each request.
func (o *origin) serve(ctx context.Context, addr, kind string, h http.Handler) (string, error) {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("%s: %w", kind, err)
	}
	srv := &http.Server{Handler: o.logRequests(kind, h), ReadHeaderTimeout: 10 * time.Second}
	o.servers = append(o.servers, srv)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			o.errs <- fmt.Errorf("%s: %w", kind, err)
		}
	}()
	o.log.Info("Serving", "kind", kind, "addr", ln.Addr().String())
	return ln.Addr().String(), nil
}

// httpHandler serves the directory (cut every cfg.dropEvery bytes) and /healthz.
func (o *origin) httpHandler(cfg config) http.Handler {
	files := &sourcetest.Dropper{Handler: http.FileServer(http.Dir(cfg.dir)), Every: cfg.dropEvery}
	mux := http.NewServeMux()
	mux.Handle("/", files)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !o.ready.Load() {
			http.Error(w, "pushing", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

// serveRegistry serves a registry (blobs on disk in a temporary directory) and pushes the
// directory into it as the artifact repo:tag.
func (o *origin) serveRegistry(ctx context.Context, cfg config) (string, error) {
	blobDir, err := os.MkdirTemp("", "origin-blobs-")
	if err != nil {
		return "", err
	}
	o.cleanup = append(o.cleanup, func() { _ = os.RemoveAll(blobDir) })
	reg := registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(blobDir)),
		registry.Logger(stdlog.New(io.Discard, "", 0)))
	addr, err := o.serve(ctx, cfg.regAddr, "registry", reg)
	if err != nil {
		return "", err
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	ref, err := name.ParseReference(net.JoinHostPort("127.0.0.1", port)+"/"+cfg.repo+":"+cfg.tag, name.Insecure)
	if err != nil {
		return "", err
	}
	blobs, err := sourcetest.DirBlobs(cfg.dir)
	if err != nil {
		return "", err
	}
	digest, err := sourcetest.PushArtifact(ctx, ref, blobs)
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	o.log.Info("Artifact pushed", "ref", ref.String(), "digest", digest.String(), "files", len(blobs))
	return addr, nil
}

// serveS3 serves an S3 server holding the directory in cfg.bucket.
func (o *origin) serveS3(ctx context.Context, cfg config) (string, error) {
	h, backend := sourcetest.NewS3(cfg.accessKey)
	if err := sourcetest.PutDir(backend, cfg.bucket, "", cfg.dir); err != nil {
		return "", fmt.Errorf("filling bucket %s: %w", cfg.bucket, err)
	}
	o.log.Info("Bucket filled", "bucket", cfg.bucket)
	return o.serve(ctx, cfg.s3Addr, "s3", h)
}

// logRequests logs each request's method, path and range with its status.
func (o *origin) logRequests(kind string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			o.log.Info("Request", "kind", kind, "method", r.Method, "path", r.URL.Path,
				"range", r.Header.Get("Range"), "status", sw.status, "remote", r.RemoteAddr)
		}()
		h.ServeHTTP(sw, r)
	})
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush passes a flush on (the Dropper flushes before cutting).
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// shutdown stops every server (10 s for requests in flight) and removes temporary files.
func (o *origin) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range o.servers {
		_ = s.Shutdown(ctx)
	}
	for _, f := range o.cleanup {
		f()
	}
}
