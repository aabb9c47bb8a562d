// Package metrics holds the Prometheus collectors of MiniBit's binaries and the small HTTP server
// that exposes them on /metrics, with a /healthz liveness endpoint beside it.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Timeouts of the metrics server: it answers scrapes and probes only, so they are short.
const (
	readHeaderTimeout = 5 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = 60 * time.Second
	shutdownTimeout   = 5 * time.Second
)

// Handler returns the server's routes: /metrics (the registry in Prometheus' text format) and
// /healthz (200 "ok" while the process serves HTTP).
func Handler(registry prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// Serve listens on addr and serves Handler(registry) until ctx is done, then shuts the server
// down gracefully. It returns nil after a shutdown caused by ctx, or the listen or serve error.
func Serve(ctx context.Context, addr string, registry prometheus.Gatherer) error {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	return ServeListener(ctx, ln, registry)
}

// ServeListener is Serve on a listener the caller opened (for example on port 0 in tests).
func ServeListener(ctx context.Context, ln net.Listener, registry prometheus.Gatherer) error {
	srv := &http.Server{
		Handler:           Handler(registry),
		ReadHeaderTimeout: readHeaderTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			_ = srv.Shutdown(shutdownCtx)
		case <-done:
		}
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("metrics: serve: %w", err)
}
