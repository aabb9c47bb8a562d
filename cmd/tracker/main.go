// Command tracker runs MiniBit's tracker: the design note's "phone book" that tells each peer of a
// swarm about a random sample of the others, with its JSON API, torrent store, /metrics and
// /healthz on one listener.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/minibit-io/minibit/internal/flagalias"
	"github.com/minibit-io/minibit/internal/tracker"
	"github.com/minibit-io/minibit/internal/tracker/client"
)

// Timeouts of the HTTP server: every request is small, so none needs long.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second // a PUT of a large .torrent over a slow link
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
	maxHeaderBytes    = 64 << 10 // a scrape of 256 info-hashes fits
)

// options are the command's flags.
type options struct {
	listen    string
	logFormat string
	logLevel  slog.Level
	// secretFile holds the publish token (--publish-secret-file); empty: uploads are open.
	secretFile string
	cfg        tracker.Config
	renamed    flagalias.Set // old names of renamed flags
}

func main() {
	opts, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	log := newLogger(opts)
	opts.renamed.Warn(log)
	if err := runUntilSignal(opts, log); err != nil {
		log.Error("Tracker failed", "err", err)
		os.Exit(1)
	}
}

// runUntilSignal runs the tracker until SIGINT or SIGTERM.
func runUntilSignal(o options, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, o, log)
}

// parseFlags reads the command line.
func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("tracker", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", ":8080", "address to serve announce, scrape, the JSON API, /metrics and /healthz on")
	fs.DurationVar(&o.cfg.Interval, "announce-interval", tracker.DefaultInterval, "how often peers are asked to announce (the note's 30 s heartbeat)")
	o.renamed.Add(fs, "interval", "announce-interval")
	fs.DurationVar(&o.cfg.PeerTTL, "peer-ttl", tracker.DefaultPeerTTL, "drop a peer not heard from for this long (the note's 5 min)")
	fs.IntVar(&o.cfg.DefaultNumWant, "numwant", tracker.DefaultNumWant, "peers per answer when the peer does not ask (the note's sample of 5)")
	fs.IntVar(&o.cfg.MaxNumWant, "max-numwant", tracker.DefaultMaxNumWant, "most peers per answer, whatever the peer asks")
	fs.IntVar(&o.cfg.MaxSwarms, "max-swarms", tracker.DefaultMaxSwarms, "most swarms tracked at once")
	fs.IntVar(&o.cfg.MaxPeersPerSwarm, "max-peers-per-swarm", tracker.DefaultMaxPeersPerSwarm, "most peers in one swarm")
	fs.Int64Var(&o.cfg.MaxTorrentBytes, "max-torrent-bytes", tracker.DefaultMaxTorrentBytes, "largest .torrent file accepted")
	fs.StringVar(&o.secretFile, "publish-secret-file", "", "file holding the token a torrent upload must carry (Authorization: Bearer); empty lets anyone upload")
	fs.BoolVar(&o.cfg.RegisteredOnly, "registered-only", false, "refuse announces and scrapes for info-hashes without a stored torrent")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.TextVar(&o.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return o, fmt.Errorf("--log-format must be text or json, got %q", o.logFormat)
	}
	if o.cfg.Interval < time.Second || o.cfg.PeerTTL < o.cfg.Interval {
		return o, fmt.Errorf("--announce-interval must be at least 1s and --peer-ttl at least --announce-interval")
	}
	return o, nil
}

// newLogger builds the slog logger the flags ask for.
func newLogger(o options) *slog.Logger {
	hopts := &slog.HandlerOptions{Level: o.logLevel}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, hopts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, hopts))
}

// run serves the tracker until ctx ends, then shuts it down gracefully.
func run(ctx context.Context, o options, log *slog.Logger) error {
	if o.secretFile != "" {
		token, err := client.ReadSecretFile(o.secretFile)
		if err != nil {
			return err
		}
		o.cfg.PublishToken = token
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	o.cfg.Logger, o.cfg.Registerer = log, registry
	srv := tracker.NewServer(o.cfg)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	httpSrv := &http.Server{
		Handler: srv, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { _ = srv.Run(ctx) }()
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	log.Info("Tracker listening", "addr", ln.Addr().String(), "interval", o.cfg.Interval,
		"peerTTL", o.cfg.PeerTTL, "numwant", o.cfg.DefaultNumWant,
		"publishSecret", o.cfg.PublishToken != "", "registeredOnly", o.cfg.RegisteredOnly)
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	log.Info("Shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("Tracker stopped")
	return nil
}
