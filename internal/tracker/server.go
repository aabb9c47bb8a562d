// Package tracker is the design note's "phone book": an HTTP BitTorrent tracker (announce per
// BEP 3 with compact peers per BEP 23, scrape per BEP 48) that registers the peers of each swarm,
// answers each with a random sample of the others, drops peers that stop announcing, stores the
// swarm's .torrent, and shows every swarm on a JSON API and a live dashboard (package dashboard);
// and the client and heartbeat loop that peers use to talk to it.
package tracker

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/minibit-io/minibit/internal/dashboard"
	"github.com/minibit-io/minibit/internal/metrics"
	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/protocol"
)

// Defaults of Config, from the design note where it has a number.
const (
	// DefaultInterval is the note's heartbeat: peers announce every 30 s.
	DefaultInterval = protocol.DefaultInterval
	// DefaultMinInterval is the least time a peer should leave between two announces.
	DefaultMinInterval = 15 * time.Second
	// DefaultPeerTTL is the note's inactivity limit: a peer silent for 5 min is dropped.
	DefaultPeerTTL = 5 * time.Minute
	// DefaultNumWant is the note's sample: min(5, others) peers per answer.
	DefaultNumWant = 5
	// DefaultMaxNumWant caps the numwant a peer may ask for.
	DefaultMaxNumWant = 50
	// DefaultMaxSwarms bounds the number of swarms.
	DefaultMaxSwarms = 1000
	// DefaultMaxPeersPerSwarm bounds the peers of one swarm.
	DefaultMaxPeersPerSwarm = 5000
	// DefaultMaxTorrentBytes bounds one stored .torrent.
	DefaultMaxTorrentBytes = api.DefaultMaxTorrentBytes
	// DefaultMaxStoredBytes bounds all stored .torrent files together.
	DefaultMaxStoredBytes = 256 << 20
)

// Config is the tracker's configuration; zero fields take the defaults above.
type Config struct {
	// Interval is the heartbeat the tracker asks of peers (the answer's "interval").
	Interval time.Duration
	// MinInterval is the answer's "min interval".
	MinInterval time.Duration
	// PeerTTL is how long a peer stays without announcing before it is dropped.
	PeerTTL time.Duration
	// DefaultNumWant is the sample size when a peer does not send numwant.
	DefaultNumWant int
	// MaxNumWant caps the sample size a peer may ask for.
	MaxNumWant int
	// MaxSwarms bounds the number of swarms; announces for new swarms beyond it fail.
	MaxSwarms int
	// MaxPeersPerSwarm bounds one swarm; announces of new peers beyond it fail.
	MaxPeersPerSwarm int
	// MaxTorrentBytes bounds one stored .torrent file.
	MaxTorrentBytes int64
	// MaxStoredBytes bounds the stored .torrent files together.
	MaxStoredBytes int64
	// PublishToken, when not empty, is the secret that a torrent upload must carry as
	// "Authorization: Bearer <token>" (auth.go); empty lets anyone store a torrent, the first
	// store of a name winning.
	PublishToken string
	// RegisteredOnly refuses announces and scrapes for an info-hash the tracker holds no stored
	// torrent for (a "failure reason"), and creates no swarm for them.
	RegisteredOnly bool
	// Logger receives the tracker's logs; nil logs nothing.
	Logger *slog.Logger
	// Registerer receives the tracker's metrics. When it is also a prometheus.Gatherer (as a
	// *prometheus.Registry is) /metrics serves it; nil makes a private registry.
	Registerer prometheus.Registerer
	// Now is the clock; nil is time.Now. Tests inject a fake one.
	Now func() time.Time
	// Seed seeds the peer sampling; 0 seeds it at random. Tests fix it.
	Seed uint64
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	setDefault(&c.Interval, DefaultInterval)
	setDefault(&c.MinInterval, DefaultMinInterval)
	setDefault(&c.PeerTTL, DefaultPeerTTL)
	setDefault(&c.DefaultNumWant, DefaultNumWant)
	setDefault(&c.MaxNumWant, DefaultMaxNumWant)
	setDefault(&c.MaxSwarms, DefaultMaxSwarms)
	setDefault(&c.MaxPeersPerSwarm, DefaultMaxPeersPerSwarm)
	setDefault(&c.MaxTorrentBytes, DefaultMaxTorrentBytes)
	setDefault(&c.MaxStoredBytes, DefaultMaxStoredBytes)
	c.MinInterval = min(c.MinInterval, c.Interval)
	c.DefaultNumWant = min(c.DefaultNumWant, c.MaxNumWant)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// setDefault sets *v to def when *v is zero or negative.
func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Server is the tracker: an http.Handler for every endpoint, and a reaper that Run drives. Its
// fields are set by NewServer and never change; all swarm state lives in reg, owned by reg.mu.
type Server struct {
	cfg      Config
	log      *slog.Logger
	reg      *registry
	metrics  *metrics.Tracker
	gatherer prometheus.Gatherer
	mux      *http.ServeMux
	dash     *dashboard.Dashboard
	auth     *publishAuth // nil when uploads need no token
}

// NewServer returns a tracker configured by cfg (zero fields take the defaults).
func NewServer(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger, reg: newRegistry(cfg), mux: http.NewServeMux(),
		auth: newPublishAuth(cfg.PublishToken)}
	s.metrics = metrics.NewTracker(s.counts)
	if err := cfg.Registerer.Register(s.metrics); err != nil {
		s.log.Error("Cannot register the tracker's metrics", "err", err)
	}
	s.gatherer = prometheus.DefaultGatherer
	if g, ok := cfg.Registerer.(prometheus.Gatherer); ok {
		s.gatherer = g
	}
	s.routes()
	return s
}

// routes installs every endpoint, each timed under its own handler label.
func (s *Server) routes() {
	s.handle("/announce", "announce", s.handleAnnounce)
	s.handle("/scrape", "scrape", s.handleScrape)
	s.handle("GET "+api.SwarmsPath, "swarms", s.handleSwarmList)
	s.handle("GET "+api.SwarmPathPrefix+"{key}", "swarm", s.handleSwarm)
	s.handle("GET "+api.TorrentPathPrefix+"{name}", "torrent_get", s.handleTorrentGet)
	s.handle("PUT "+api.TorrentPathPrefix+"{name}", "torrent_put", s.handleTorrentPut)
	s.handle("GET "+api.TorrentPathPrefix+"{name}"+api.TwinPathSuffix, "torrent_get", s.handleTwinGet) // twin.go
	s.handle("PUT "+api.TorrentPathPrefix+"{name}"+api.TwinPathSuffix, "torrent_put", s.handleTwinPut)
	s.handle("GET /healthz", "healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}))
	s.dash = dashboard.New(s, dashboard.Options{Heartbeat: s.cfg.Interval, Logger: s.log, Now: s.cfg.Now})
	s.dash.Register(s.mux, s.timed)
}

// handle registers h for pattern and observes its duration under the handler label name.
func (s *Server) handle(pattern, name string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, s.timed(name, h))
}

// timed wraps h to observe its duration under the handler label name.
func (s *Server) timed(name string, h http.HandlerFunc) http.HandlerFunc {
	observer := s.metrics.RequestDuration.WithLabelValues(name)
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h(w, r)
		observer.Observe(time.Since(start).Seconds())
	}
}

// Swarms lists every swarm without its peers, as GET /api/v1/swarms does (for the dashboard).
func (s *Server) Swarms() api.SwarmList {
	return s.reg.swarmList(s.cfg.Now())
}

// Swarm returns a swarm with its live peers and piece availability by stored name or hex v1
// info-hash, as GET /api/v1/swarms/{key} does (for the dashboard).
func (s *Server) Swarm(key string) (api.Swarm, bool) {
	return s.reg.swarmByKey(key, s.cfg.Now(), true)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// counts reads the registry's totals for the metrics' gauges.
func (s *Server) counts() metrics.TrackerCounts {
	swarms, peers, seeders := s.reg.counts()
	return metrics.TrackerCounts{Swarms: swarms, Peers: peers, Seeders: seeders, Leechers: peers - seeders}
}

// Run drops dead peers and empty swarms (see cleanup.go) until ctx ends; then it ends the
// dashboard's event streams (so that a graceful HTTP shutdown does not wait for viewers) and
// returns nil.
func (s *Server) Run(ctx context.Context) error {
	s.runReaper(ctx)
	s.dash.Close()
	return nil
}
