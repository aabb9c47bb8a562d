package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/minibit-io/minibit/internal/dashboard"
	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
)

// event is one server-sent event.
type event struct {
	name, data string
}

// eventReader reads server-sent events from a stream.
type eventReader struct {
	body io.ReadCloser
	r    *bufio.Reader
}

// openEvents GETs an event stream and checks its status and type.
func openEvents(t *testing.T, url string) *eventReader {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: HTTP %d %q, want an event stream", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &eventReader{body: resp.Body, r: bufio.NewReader(resp.Body)}
}

// next reads the next named event, skipping comments and the retry line.
func (e *eventReader) next(t *testing.T) event {
	t.Helper()
	var ev event
	for {
		line, err := e.r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && ev.name != "":
			return ev
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		}
	}
}

// nextSwarm reads events until a "swarm" event whose view satisfies cond.
func (e *eventReader) nextSwarm(t *testing.T, cond func(dashboard.SwarmView) bool) dashboard.SwarmView {
	t.Helper()
	for {
		ev := e.next(t)
		if ev.name != "swarm" {
			t.Fatalf("event %q, want swarm", ev.name)
		}
		var v dashboard.SwarmView
		if err := json.Unmarshal([]byte(ev.data), &v); err != nil {
			t.Fatalf("swarm event %q: %v", ev.data, err)
		}
		if cond(v) {
			return v
		}
	}
}

func TestPageIsServedAndSelfContained(t *testing.T) {
	tr := startTracker(t)
	for path, wantType := range map[string]string{
		"/": "text/html", "/dashboard/": "text/html", "/dashboard/app.js": "text/javascript",
		"/dashboard/style.css": "text/css", "/dashboard/favicon.svg": "image/svg+xml",
	} {
		resp, err := http.Get(tr.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), wantType) {
			t.Errorf("GET %s: HTTP %d %q, want 200 %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), wantType)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q, want default-src 'self'", path, csp)
		}
	}
	// No CDN, no internet: the page names no other host.
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := filepath.WalkDir("assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range external.FindAllString(string(data), -1) {
			if m != "http://www.w3.org" { // the SVG namespace, never fetched
				t.Errorf("%s names an external host: %s", path, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSwarmEventsFollowTheSwarm(t *testing.T) {
	tr := startTracker(t)
	_, meta := publishTorrent(t, tr, "live", 64*16<<10, 16<<10)
	swarm := newPlayedSwarm(tr.URL, meta, 3)
	ctx := context.Background()
	if err := swarm.announceAll(ctx, true); err != nil {
		t.Fatal(err)
	}
	events := openEvents(t, tr.URL+"/api/v1/swarms/live/events")
	first := events.nextSwarm(t, func(v dashboard.SwarmView) bool { return len(v.Peers) == 4 })
	if first.Name != "live" || len(first.Availability) != 64 || first.AvailabilityPeers != 4 || first.HeartbeatSeconds != 1 {
		t.Fatalf("first view: name %q, %d pieces from %d peers, heartbeat %v", first.Name, len(first.Availability), first.AvailabilityPeers, first.HeartbeatSeconds)
	}
	for range 3 {
		swarm.step()
	}
	if err := swarm.announceAll(ctx, false); err != nil {
		t.Fatal(err)
	}
	moved := events.nextSwarm(t, func(v dashboard.SwarmView) bool { return v.Progress > first.Progress })
	if moved.ETASeconds == nil || moved.ActivePeers == 0 {
		t.Errorf("a moving swarm has ETA %v and %d active peers", moved.ETASeconds, moved.ActivePeers)
	}
	for _, p := range moved.Peers {
		if p.Name != "seeder" && p.State != dashboard.StateDownloading {
			t.Errorf("%s is %q, want downloading", p.Name, p.State)
		}
	}
	for range 200 {
		swarm.step()
	}
	if err := swarm.announceAll(ctx, false); err != nil {
		t.Fatal(err)
	}
	done := events.nextSwarm(t, func(v dashboard.SwarmView) bool { return v.Done })
	if done.Progress != 1 || done.Completed != 3 || done.ETASeconds != nil {
		t.Errorf("done view: progress %v, completed %d, ETA %v", done.Progress, done.Completed, done.ETASeconds)
	}
}

func TestListEventsShowEverySwarm(t *testing.T) {
	tr := startTracker(t)
	publishTorrent(t, tr, "one", 16<<10, 16<<10)
	publishTorrent(t, tr, "two", 32<<10, 16<<10)
	ev := openEvents(t, tr.URL+"/api/v1/events").next(t)
	var list dashboard.ListView
	if err := json.Unmarshal([]byte(ev.data), &list); err != nil || ev.name != "swarms" {
		t.Fatalf("event %q %q: %v", ev.name, ev.data, err)
	}
	var names []string
	for _, sw := range list.Swarms {
		names = append(names, sw.Name)
	}
	if diff := cmp.Diff([]string{"one", "two"}, names); diff != "" {
		t.Errorf("swarm list mismatch (-want +got):\n%s", diff)
	}
}

func TestUnknownSwarmIsNotFound(t *testing.T) {
	tr := startTracker(t)
	resp, err := http.Get(tr.URL + "/api/v1/swarms/nope/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `no swarm named or hashed \"nope\"`) {
		t.Errorf("HTTP %d %s, want 404 with the reason", resp.StatusCode, body)
	}
}

// fixedSource is a Source of one swarm (mocks the tracker for the stream's own logic).
type fixedSource struct{ swarm api.Swarm }

func (f fixedSource) Swarms() api.SwarmList {
	return api.SwarmList{Swarms: []api.SwarmSummary{f.swarm.SwarmSummary}}
}

func (f fixedSource) Swarm(key string) (api.Swarm, bool) { return f.swarm, key == f.swarm.Name }

// serveDashboard serves d on 127.0.0.1 with the given server timeouts, as cmd/tracker does.
func serveDashboard(t *testing.T, d *dashboard.Dashboard, timeout time.Duration) string {
	t.Helper()
	mux := http.NewServeMux()
	d.Register(mux, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadTimeout: timeout, WriteTimeout: timeout, ReadHeaderTimeout: timeout}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { d.Close(); _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func TestStreamOutlivesTheServersTimeouts(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // read only by the stream's one render loop
	src := fixedSource{api.Swarm{SwarmSummary: api.SwarmSummary{Name: "s"}}}
	d := dashboard.New(src, dashboard.Options{UpdateEvery: 20 * time.Millisecond, KeepAlive: 50 * time.Millisecond,
		Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	base := serveDashboard(t, d, 200*time.Millisecond)
	events := openEvents(t, base+"/api/v1/swarms/s/events")
	start := time.Now()
	n := 0
	for time.Since(start) < time.Second { // five times the server's read and write timeouts
		events.next(t)
		n++
	}
	if n < 5 {
		t.Errorf("got %d events in a second, want a steady stream", n)
	}
}

func TestViewersAreBoundedAndClosedOnShutdown(t *testing.T) {
	src := fixedSource{api.Swarm{SwarmSummary: api.SwarmSummary{Name: "s"}}}
	d := dashboard.New(src, dashboard.Options{MaxSubscribers: 2})
	base := serveDashboard(t, d, time.Minute)
	a := openEvents(t, base+"/api/v1/swarms/s/events")
	openEvents(t, base+"/api/v1/events")
	waitUntil(t, "two viewers", func() bool { return d.Subscribers() == 2 })
	resp, err := http.Get(base + "/api/v1/swarms/s/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a third viewer got HTTP %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	a.body.Close()
	waitUntil(t, "the first viewer gone", func() bool { return d.Subscribers() == 1 })
	openEvents(t, base+"/api/v1/swarms/s/events")

	d.Close()
	waitUntil(t, "every stream ended by Close", func() bool { return d.Subscribers() == 0 })
}

// waitUntil polls cond every 10 ms for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTrackerMountsTheDashboard checks that a tracker built by NewServer serves the streams.
func TestTrackerMountsTheDashboard(t *testing.T) {
	openEvents(t, trackertest.Start(t).URL+"/api/v1/events").next(t)
}
