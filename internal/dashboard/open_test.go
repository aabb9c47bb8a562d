package dashboard_test

import (
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minibit-io/minibit/internal/dashboard"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

// These browser tests check which swarm the page opens on: a person who opens the demo's URL
// (often before the swarm exists) must land on the swarm's panel, not on a list of one card.

// onlySwarmShown is true once the page shows name's panel: the panel visible, its name, the
// address naming it, and its stream's first update drawn (the status is no longer "connecting…").
func onlySwarmShown(name string) string {
	return `(() => {
		const d = document.getElementById('detail');
		const status = document.getElementById('swarm-status').textContent;
		return !d.hidden && document.getElementById('swarm-name').textContent === '` + name + `' &&
			location.hash === '#swarm=` + name + `' && status !== 'connecting…' && status.trim() !== '';
	})()`
}

func TestDashboardOpensTheOnlySwarmsPanel(t *testing.T) {
	tab := newBrowser(t, 1280, 900)
	tr := startTracker(t)

	// Opened before the tracker knows any swarm, as the demo's first line invites.
	if err := chromedp.Do(tab, chromedp.Navigate(tr.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "the empty list", `/Waiting for the tracker/.test(document.getElementById('swarms').textContent)`, 30*time.Second)
	if !evalJS[bool](t, tab, `document.getElementById('detail').hidden`) {
		t.Error("the swarm panel is shown while there is no swarm")
	}
	src, meta := publishTorrent(t, tr, "solo", 1<<20, 32<<10)
	cfg := sessionConfig(meta, src, tr.URL, "seeder")
	cfg.Seed, cfg.Trusted = true, true
	startSession(t, cfg)
	waitJS(t, tab, "the swarm's panel", onlySwarmShown("solo"), 30*time.Second)
	waitJS(t, tab, "the seeder's row", `document.querySelectorAll('.peer[data-name="seeder"]').length === 1`, 30*time.Second)
	screenshot(t, tab, "dashboard-one-swarm.png")

	// Opened later, at an address naming a swarm that is gone: the only swarm is shown.
	if err := chromedp.Do(tab, chromedp.Navigate(tr.URL+"/dashboard/#swarm=gone")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "the only swarm's panel", onlySwarmShown("solo"), 30*time.Second)
}

// refusingSource is one swarm whose stream the dashboard refuses (404) while refusals last:
// the tracker lost the swarm for a moment, or the list named it before the swarm was found.
type refusingSource struct {
	swarm api.Swarm

	mu       sync.Mutex
	refusals int // Swarm lookups still to refuse
	lookups  int
}

func (f *refusingSource) Swarms() api.SwarmList {
	return api.SwarmList{Swarms: []api.SwarmSummary{f.swarm.SwarmSummary}}
}

func (f *refusingSource) Swarm(key string) (api.Swarm, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if f.refusals > 0 {
		f.refusals--
		return api.Swarm{}, false
	}
	return f.swarm, key == f.swarm.Name
}

func (f *refusingSource) counts() (lookups, refusals int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups, f.refusals
}

// A browser does not retry an event stream refused with an HTTP error; the page opens it again
// on a later list update instead of staying on the list.
func TestDashboardReopensARefusedSwarmStream(t *testing.T) {
	tab := newBrowser(t, 1280, 900)
	now := time.Now()
	src := &refusingSource{refusals: 1, swarm: api.Swarm{
		SwarmSummary: api.SwarmSummary{InfoHash: "0123456789abcdef0123456789abcdef01234567", Name: "flaky",
			Length: 1 << 20, Seeders: 1, Progress: 1, CreatedAt: now},
		Peers: []api.Peer{{PeerID: "2d4d42303030312d000000000000000000000001", Name: "seeder", IP: "127.0.0.1",
			Port: 6881, Progress: 1, Seeder: true, StartedAt: now, LastSeen: now}},
	}}
	url := serveDashboard(t, dashboard.New(src, dashboard.Options{Heartbeat: time.Second}), 10*time.Second)
	if err := chromedp.Do(tab, chromedp.Navigate(url+"/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "the swarm's panel after a refused stream", onlySwarmShown("flaky"), 30*time.Second)
	waitJS(t, tab, "the seeder's row", `document.querySelectorAll('.peer[data-name="seeder"]').length === 1`, 10*time.Second)
	if lookups, left := src.counts(); left != 0 || lookups < 2 {
		t.Errorf("%d lookups, %d refusals left: the refused stream was not opened again", lookups, left)
	}
}
