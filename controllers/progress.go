package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/minibit-io/minibit/internal/tracker/api"
)

// ErrSwarmUnknown says the tracker answered but does not know the swarm yet: the seeder has not
// published its .torrent.
var ErrSwarmUnknown = errors.New("the tracker does not know the swarm yet")

// ProgressSource reads a swarm's state from its tracker.
type ProgressSource interface {
	// SwarmProgress returns the swarm named name as the tracker at trackerURL sees it, or
	// ErrSwarmUnknown, or the error that kept the tracker from answering.
	SwarmProgress(ctx context.Context, trackerURL, name string) (api.Swarm, error)
}

// maxSwarmJSON bounds the tracker's answer (about 350 bytes a peer; 5,000 peers fit).
const maxSwarmJSON = 8 << 20

// DefaultTrackerTimeout bounds one poll of a tracker's JSON API.
const DefaultTrackerTimeout = 3 * time.Second

// HTTPProgress is the ProgressSource that asks the tracker's JSON API (GET /api/v1/swarms/{name}).
type HTTPProgress struct {
	// Client makes the requests; its Timeout bounds each one (DefaultTrackerTimeout when nil).
	Client *http.Client
}

// SwarmProgress implements ProgressSource.
func (h HTTPProgress) SwarmProgress(ctx context.Context, trackerURL, name string) (api.Swarm, error) {
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultTrackerTimeout}
	}
	u := strings.TrimRight(trackerURL, "/") + api.SwarmPathPrefix + url.PathEscape(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return api.Swarm{}, fmt.Errorf("tracker request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return api.Swarm{}, fmt.Errorf("tracker unreachable: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSwarmJSON+1))
	switch {
	case err != nil:
		return api.Swarm{}, fmt.Errorf("reading the tracker's answer: %w", err)
	case len(body) > maxSwarmJSON:
		return api.Swarm{}, fmt.Errorf("the tracker's answer exceeds %d bytes", maxSwarmJSON)
	case resp.StatusCode == http.StatusNotFound:
		return api.Swarm{}, ErrSwarmUnknown
	case resp.StatusCode != http.StatusOK:
		return api.Swarm{}, fmt.Errorf("tracker answered %s", resp.Status)
	}
	var sw api.Swarm
	if err := json.Unmarshal(body, &sw); err != nil {
		return api.Swarm{}, fmt.Errorf("decoding the tracker's answer: %w", err)
	}
	return sw, nil
}

// polled is one answer of a tracker, kept for a period.
type polled struct {
	at    time.Time
	swarm api.Swarm
	err   error
}

// progressCache keeps each swarm's last tracker answer for one period, so that however many pod
// events trigger reconciles, each tracker is asked at most once a period. Its mutex owns the map;
// entries are dropped when a swarm finishes or disappears, so it holds at most one per Swarm.
type progressCache struct {
	mu      sync.Mutex
	entries map[types.NamespacedName]polled
}

// get returns the answer for key if it is younger than period.
func (c *progressCache) get(key types.NamespacedName, now time.Time, period time.Duration) (polled, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.entries[key]
	if !ok || now.Sub(p.at) >= period || now.Before(p.at) {
		return polled{}, false
	}
	return p, true
}

func (c *progressCache) put(key types.NamespacedName, p polled) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[types.NamespacedName]polled)
	}
	c.entries[key] = p
}

func (c *progressCache) forget(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}
