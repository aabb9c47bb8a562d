// Package trackertest runs a real MiniBit tracker inside a test's process: a tracker.Server
// behind a real HTTP listener on 127.0.0.1, its reaper running, with a client of it, stopped
// when the test ends. It is the one in-process tracker of every package's tests.
package trackertest

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/tracker"
	"github.com/minibit-io/minibit/internal/tracker/client"
)

// Tracker is a running in-process tracker.
type Tracker struct {
	// Server is the tracker itself.
	Server *tracker.Server
	// URL is its base URL, "http://127.0.0.1:port".
	URL string
	// Client is a client of it with the note's 10 s timeout.
	Client *client.Client

	hs        *httptest.Server
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// Option changes how Start and New run the tracker.
type Option func(*options)

type options struct {
	cfg  tracker.Config
	addr string
}

// WithConfig runs the tracker with cfg (zero fields take the tracker's defaults). Options after
// it change its fields.
func WithConfig(cfg tracker.Config) Option {
	return func(o *options) { o.cfg = cfg }
}

// WithHeartbeat asks peers to announce every d (and lets them announce as often): peers of a
// test meet and finish quickly with a second.
func WithHeartbeat(d time.Duration) Option {
	return func(o *options) { o.cfg.Interval, o.cfg.MinInterval = d, d }
}

// WithLogger sends the tracker's logs to log.
func WithLogger(log *slog.Logger) Option {
	return func(o *options) { o.cfg.Logger = log }
}

// At listens on addr, a 127.0.0.1 address with a fixed port (one that peers already look for, or
// that a stopped tracker of the test used), instead of a free port; the bind is retried for 5 s
// while the port is released.
func At(addr string) Option {
	return func(o *options) { o.addr = addr }
}

// Start runs a tracker until the test ends; it fails the test when it cannot listen.
func Start(t testing.TB, opts ...Option) *Tracker {
	t.Helper()
	tr, err := New(opts...)
	if err != nil {
		t.Fatalf("trackertest: %v", err)
	}
	t.Cleanup(tr.Close)
	return tr
}

// New runs a tracker until Close, for setups without a testing.TB (a TestMain, a suite).
func New(opts ...Option) (*Tracker, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	hs := httptest.NewUnstartedServer(nil)
	if o.addr != "" {
		ln, err := listen(o.addr)
		if err != nil {
			hs.Close()
			return nil, err
		}
		_ = hs.Listener.Close()
		hs.Listener = ln
	}
	srv := tracker.NewServer(o.cfg)
	hs.Config.Handler = srv
	ctx, cancel := context.WithCancel(context.Background())
	tr := &Tracker{Server: srv, hs: hs, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(tr.done)
		_ = srv.Run(ctx)
	}()
	hs.Start()
	tr.URL = hs.URL
	tr.Client = client.NewClient(hs.URL)
	return tr, nil
}

// listen binds addr, retrying for 5 s while another listener releases it.
func listen(addr string) (net.Listener, error) {
	var lc net.ListenConfig
	for attempt := 0; ; attempt++ {
		ln, err := lc.Listen(context.Background(), "tcp", addr)
		if err == nil || attempt == 50 {
			return ln, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// AnnounceURL is the tracker's announce URL, as a .torrent names it.
func (tr *Tracker) AnnounceURL() string { return tr.URL + "/announce" }

// Close stops the tracker: its reaper and dashboard streams first (so that no viewer holds the
// server open), then its connections and listener. Calls after the first do nothing.
func (tr *Tracker) Close() {
	tr.closeOnce.Do(func() {
		tr.cancel()
		<-tr.done
		tr.hs.CloseClientConnections()
		tr.hs.Close()
	})
}
