// Package dashboard is the tracker's live web dashboard, the design note's "delivery app" view of
// a swarm: every peer with its progress, rates, state and ETA, and a map of how many peers hold
// each piece. Its page (plain HTML, CSS and JavaScript) is embedded in the binary; it updates by
// server-sent events that a bounded hub coalesces and fans out without ever blocking the tracker.
package dashboard

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/minibit-io/minibit/internal/tracker/api"
)

// Paths the dashboard serves; the tracker mounts them (see Register).
const (
	// PagePath is the dashboard's page; "/" serves it too.
	PagePath = "/dashboard/"
	// ListEventsPath streams ListView events (event "swarms").
	ListEventsPath = "/api/v1/events"
	// SwarmEventsSuffix follows api.SwarmPathPrefix and a swarm's name or info-hash: it streams
	// SwarmView events (event "swarm"; event "missing" once the swarm is gone).
	SwarmEventsSuffix = "/events"
)

// Defaults of Options.
const (
	// DefaultUpdateEvery coalesces updates to two per second per watched swarm.
	DefaultUpdateEvery = 500 * time.Millisecond
	// DefaultMaxSubscribers bounds the open event streams of all viewers together.
	DefaultMaxSubscribers = 64
	// DefaultSubscriberBuffer is how many updates a viewer may fall behind before it is dropped.
	DefaultSubscriberBuffer = 8
	// DefaultWriteTimeout bounds the write of one event to a viewer.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultKeepAlive is the pause after which an idle stream gets a comment line.
	DefaultKeepAlive = 15 * time.Second
	// DefaultMaxStream bounds one stream's life; the browser reconnects by itself.
	DefaultMaxStream = 10 * time.Minute
	// reconnectMillis is the browser's wait before it reconnects a closed stream.
	reconnectMillis = 2000
)

//go:embed assets
var assets embed.FS

// Source is where the dashboard reads the swarms: the tracker's registry, as its JSON API sees it.
type Source interface {
	// Swarms lists every swarm without its peers.
	Swarms() api.SwarmList
	// Swarm returns a swarm with its live peers by stored name or hex v1 info-hash.
	Swarm(key string) (api.Swarm, bool)
}

// Options configure a Dashboard; zero fields take the defaults.
type Options struct {
	// Heartbeat is the tracker's announce interval: peers silent for two are shown as such.
	Heartbeat time.Duration
	// UpdateEvery is the pace of updates of one stream.
	UpdateEvery time.Duration
	// MaxSubscribers bounds the open event streams.
	MaxSubscribers int
	// SubscriberBuffer is how many updates a slow viewer may fall behind before it is dropped.
	SubscriberBuffer int
	// WriteTimeout bounds writing one event; KeepAlive and MaxStream are described above.
	WriteTimeout, KeepAlive, MaxStream time.Duration
	// Logger receives the dashboard's logs; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Dashboard serves the page and its event streams. Its fields never change after New; the
// live streams are owned by hub; closed is closed once by Close.
type Dashboard struct {
	src       Source
	opts      Options
	log       *slog.Logger
	hub       *hub
	files     http.Handler
	closed    chan struct{}
	closeOnce sync.Once
}

// New returns a dashboard that reads src.
func New(src Source, opts Options) *Dashboard {
	setDefault(&opts.UpdateEvery, DefaultUpdateEvery)
	setDefault(&opts.MaxSubscribers, DefaultMaxSubscribers)
	setDefault(&opts.SubscriberBuffer, DefaultSubscriberBuffer)
	setDefault(&opts.WriteTimeout, DefaultWriteTimeout)
	setDefault(&opts.KeepAlive, DefaultKeepAlive)
	setDefault(&opts.MaxStream, DefaultMaxStream)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return &Dashboard{
		src: src, opts: opts, log: log,
		hub:    newHub(opts.UpdateEvery, opts.MaxSubscribers, opts.SubscriberBuffer),
		files:  http.StripPrefix(PagePath, http.FileServerFS(sub)),
		closed: make(chan struct{}),
	}
}

// Close ends every open event stream and refuses new ones, so that a graceful HTTP shutdown
// need not wait for viewers to leave. Browsers retry, and find the next tracker.
func (d *Dashboard) Close() {
	d.closeOnce.Do(func() { close(d.closed) })
}

// setDefault sets *v to def when *v is zero or negative.
func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Register mounts the dashboard on mux: the page at "/" and PagePath, and both event streams.
// wrap, when not nil, wraps the page's handlers (the tracker times them); the streams are long
// and never wrapped.
func (d *Dashboard) Register(mux *http.ServeMux, wrap func(name string, h http.HandlerFunc) http.HandlerFunc) {
	if wrap == nil {
		wrap = func(_ string, h http.HandlerFunc) http.HandlerFunc { return h }
	}
	mux.HandleFunc("GET /{$}", wrap("dashboard", d.ServePage))
	mux.HandleFunc("GET "+PagePath, wrap("dashboard", d.ServePage))
	mux.HandleFunc("GET "+ListEventsPath, d.ServeListEvents)
	mux.HandleFunc("GET "+api.SwarmPathPrefix+"{key}"+SwarmEventsSuffix, d.ServeSwarmEvents)
}

// ServePage serves the page (index.html for "/" and PagePath) and its assets.
func (d *Dashboard) ServePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	if r.URL.Path == "/" {
		r = r.Clone(r.Context())
		r.URL.Path = PagePath
	}
	d.files.ServeHTTP(w, r)
}

// ServeListEvents streams the swarm list.
func (d *Dashboard) ServeListEvents(w http.ResponseWriter, r *http.Request) {
	d.stream(w, r, "swarms", d.renderList)
}

// ServeSwarmEvents streams the swarm named by the request's {key}, or answers 404.
func (d *Dashboard) ServeSwarmEvents(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if _, ok := d.src.Swarm(key); !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no swarm named or hashed %q", truncate(key, 64)))
		return
	}
	d.stream(w, r, "swarm:"+key, func() []byte { return d.renderSwarm(key) })
}

// Subscribers counts the open event streams.
func (d *Dashboard) Subscribers() int { return d.hub.subscribers() }

// renderList renders the "swarms" event.
func (d *Dashboard) renderList() []byte {
	list := d.src.Swarms()
	return frame("swarms", ListView{Now: d.opts.Now().Truncate(time.Second), Swarms: list.Swarms})
}

// renderSwarm renders the "swarm" event of key, or "missing" once the swarm is gone.
func (d *Dashboard) renderSwarm(key string) []byte {
	s, ok := d.src.Swarm(key)
	if !ok {
		return frame("missing", map[string]string{"key": key})
	}
	return frame("swarm", NewSwarmView(s, d.opts.Now(), d.opts.Heartbeat))
}

// frame encodes v as one server-sent event named event. JSON holds no raw newline, so the data
// fits one "data:" line.
func frame(event string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		data = []byte(`{"error":"cannot encode the update"}`)
	}
	var b bytes.Buffer
	b.Grow(len(data) + len(event) + 16)
	b.WriteString("event: " + event + "\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}

// stream subscribes to topic key and writes its frames to w until the viewer leaves, falls too
// far behind, a write times out, or MaxStream passes.
func (d *Dashboard) stream(w http.ResponseWriter, r *http.Request, key string, render renderFunc) {
	select {
	case <-d.closed:
		writeError(w, http.StatusServiceUnavailable, "the tracker is shutting down")
		return
	default:
	}
	sub, err := d.hub.subscribe(key, render)
	if errors.Is(err, errTooManySubscribers) {
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	defer d.hub.unsubscribe(key, sub)
	rc := http.NewResponseController(w)
	// The server's read timeout would end the stream: a GET has no body left to read.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	if !d.write(w, rc, []byte("retry: "+strconv.Itoa(reconnectMillis)+"\n\n")) {
		return
	}
	keepAlive := time.NewTicker(d.opts.KeepAlive)
	defer keepAlive.Stop()
	end := time.NewTimer(d.opts.MaxStream)
	defer end.Stop()
	for {
		var msg []byte
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case <-d.closed:
			return
		case <-keepAlive.C:
			msg = []byte(": keep-alive\n\n")
		case f, ok := <-sub.frames:
			if !ok {
				d.log.Info("Dropped a slow dashboard viewer", "remote", r.RemoteAddr, "topic", key)
				return
			}
			msg = f
		}
		if !d.write(w, rc, msg) {
			return
		}
	}
}

// write writes and flushes msg within WriteTimeout; it reports success.
func (d *Dashboard) write(w http.ResponseWriter, rc *http.ResponseController, msg []byte) bool {
	_ = rc.SetWriteDeadline(time.Now().Add(d.opts.WriteTimeout))
	if _, err := w.Write(msg); err != nil {
		return false
	}
	return rc.Flush() == nil
}

// writeError writes {"error": msg} with status, as the tracker's JSON API does.
func writeError(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
