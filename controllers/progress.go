package controllers

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/minibit-io/minibit/internal/tracker/api"
	trackerclient "github.com/minibit-io/minibit/internal/tracker/client"
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

// DefaultTrackerTimeout bounds one poll of a tracker's JSON API.
const DefaultTrackerTimeout = 3 * time.Second

// HTTPProgress is the ProgressSource that asks the tracker's JSON API (GET /api/v1/swarms/{name})
// through the tracker's client, the one the peers use.
type HTTPProgress struct {
	// Client makes the requests; its Timeout bounds each one (DefaultTrackerTimeout when nil).
	Client *http.Client
}

// SwarmProgress implements ProgressSource.
func (h HTTPProgress) SwarmProgress(ctx context.Context, trackerURL, name string) (api.Swarm, error) {
	hc := h.Client
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTrackerTimeout}
	}
	sw, err := (&trackerclient.Client{BaseURL: trackerURL, HTTP: hc}).Swarm(ctx, name)
	if errors.Is(err, trackerclient.ErrNotFound) {
		return api.Swarm{}, ErrSwarmUnknown
	}
	return sw, err
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
