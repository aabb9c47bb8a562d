package controllers

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/swarmtest"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// sameStatus makes cmp.Diff of two statuses agree with the controller's test before it writes
// one (equality.Semantic): an empty list is no list.
var sameStatus = cmpopts.EquateEmpty()

// hashA and hashB are two v1 info-hashes.
var (
	hashA = strings.Repeat("a", 40)
	hashB = strings.Repeat("b", 40)
)

// podsOf is an observed set of pods with the given phases, by name; each has the IP podIP gives
// its name.
func podsOf(phases map[string]corev1.PodPhase) *observed {
	obs := &observed{pods: map[string]*corev1.Pod{}}
	for name, phase := range phases {
		obs.pods[name] = testPod(name, phase)
	}
	return obs
}

// testPod is a pod with a phase and the IP podIP gives its name.
func testPod(name string, phase corev1.PodPhase) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{Phase: phase, PodIP: podIP(name)}}
}

// podIP is a pod's IP in the tests: 10.0.<hash of its name>.
func podIP(name string) string {
	sum := sha256.Sum256([]byte(name))
	return fmt.Sprintf("10.0.%d.%d", sum[0], sum[1])
}

// from is a peer announced by the pod name from the pod's IP.
func from(peer api.Peer) api.Peer {
	peer.IP = podIP(peer.Name)
	return peer
}

// withPods adds running pods for the names that have none.
func withPods(obs *observed, names ...string) *observed {
	for _, name := range names {
		if obs.pods[name] == nil {
			obs.pods[name] = testPod(name, corev1.PodRunning)
		}
	}
	return obs
}

func TestComputeStatus(t *testing.T) {
	later := t0.Add(time.Minute)
	tests := []struct {
		name          string
		swarm         *minibitv1alpha1.Swarm
		pods          map[string]corev1.PodPhase
		answer        api.Swarm
		pollErr       error
		disrupted     []string
		wantPhase     minibitv1alpha1.SwarmPhase
		wantCompleted int32
		wantPercent   int32
		wantRunning   int32
		wantSlowest   []string
		wantReady     metav1.ConditionStatus
		wantDegraded  string
	}{{
		name:        "tracker without the file yet",
		swarm:       swarmtest.MakeSwarm("s", "ns").Peers(2).Obj(),
		pods:        map[string]corev1.PodPhase{"s-peer-0": corev1.PodRunning, "s-peer-1": corev1.PodPending},
		pollErr:     ErrSwarmUnknown,
		wantPhase:   minibitv1alpha1.PhasePending,
		wantRunning: 1, wantSlowest: []string{"s-peer-0", "s-peer-1"},
		wantReady: metav1.ConditionTrue, wantDegraded: ReasonAsExpected,
	}, {
		name:  "distributing, slowest first, the latest announce of a name wins",
		swarm: swarmtest.MakeSwarm("s", "ns").Peers(3).Obj(),
		answer: api.Swarm{SwarmSummary: api.SwarmSummary{InfoHash: hashA, Pieces: 8}, Peers: []api.Peer{
			from(api.Peer{Name: "s-peer-0", Progress: 0.9, LastSeen: t0}),
			from(api.Peer{Name: "s-peer-0", Progress: 0.25, LastSeen: later}),                               // the pod's newer peer id
			{Name: "s-peer-0", IP: "10.9.9.9", Seeder: true, Progress: 1, LastSeen: later.Add(time.Second)}, // not from its IP
			{Name: "s-peer-1", IP: "10.9.9.9", Seeder: true, Progress: 1, LastSeen: t0},                     // a forger
			from(api.Peer{Name: "s-peer-2", Progress: 0.5, LastSeen: t0}),
			from(api.Peer{Name: "s-seeder-0", Seeder: true, Progress: 1, LastSeen: t0}), // seeders are not peers
		}},
		wantPhase: minibitv1alpha1.PhaseDistributing, wantPercent: 25, // (0.25 + 0 + 0.5) / 3
		wantSlowest: []string{"s-peer-1", "s-peer-0", "s-peer-2"},
		wantReady:   metav1.ConditionTrue, wantDegraded: ReasonAsExpected,
	}, {
		name:  "almost done is 99, not 100",
		swarm: swarmtest.MakeSwarm("s", "ns").Peers(2).Obj(),
		answer: api.Swarm{SwarmSummary: api.SwarmSummary{InfoHash: hashA}, Peers: []api.Peer{
			from(api.Peer{Name: "s-peer-0", Seeder: true, Progress: 1}), from(api.Peer{Name: "s-peer-1", Progress: 0.9999})}},
		wantPhase: minibitv1alpha1.PhaseDistributing, wantCompleted: 1, wantPercent: 99,
		wantSlowest: []string{"s-peer-1", "s-peer-0"}, wantReady: metav1.ConditionTrue, wantDegraded: ReasonAsExpected,
	}, {
		name:  "complete: seeders in the tracker and pods that exited done",
		swarm: swarmtest.MakeSwarm("s", "ns").Peers(2).ExitOnComplete().Obj(),
		pods:  map[string]corev1.PodPhase{"s-peer-1": corev1.PodSucceeded},
		answer: api.Swarm{SwarmSummary: api.SwarmSummary{InfoHash: hashA}, Peers: []api.Peer{
			from(api.Peer{Name: "s-peer-0", Seeder: true, Progress: 1})}},
		wantPhase: minibitv1alpha1.PhaseCompleted, wantCompleted: 2, wantPercent: 100,
		wantSlowest: []string{"s-peer-0", "s-peer-1"}, wantReady: metav1.ConditionTrue, wantDegraded: ReasonAsExpected,
	}, {
		name:  "under Ignore the swarm completes without the peers it lost",
		swarm: swarmtest.MakeSwarm("s", "ns").Peers(2).PeerAction(minibitv1alpha1.FailureActionIgnore).Obj(),
		answer: api.Swarm{SwarmSummary: api.SwarmSummary{InfoHash: hashA}, Peers: []api.Peer{
			from(api.Peer{Name: "s-peer-0", Seeder: true, Progress: 1})}},
		disrupted: []string{"s-peer-1"},
		wantPhase: minibitv1alpha1.PhaseCompleted, wantCompleted: 1, wantPercent: 100,
		wantSlowest: []string{"s-peer-0"}, wantReady: metav1.ConditionTrue, wantDegraded: ReasonPodsDisrupted,
	}, {
		name:      "an unreachable tracker keeps the last progress",
		swarm:     swarmtest.MakeSwarm("s", "ns").Peers(2).Status(minibitv1alpha1.SwarmStatus{InfoHash: hashA, ProgressPercent: 40, Completed: 1}).Obj(),
		pollErr:   errors.New("connection refused"),
		wantPhase: minibitv1alpha1.PhaseDistributing, wantCompleted: 1, wantPercent: 40,
		wantReady: metav1.ConditionFalse, wantDegraded: ReasonTrackerUnreachable,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPass(tt.swarm, t0)
			for _, name := range tt.disrupted {
				p.status.Disruptions = append(p.status.Disruptions, minibitv1alpha1.Disruption{Pod: name, Reason: minibitv1alpha1.DisruptionDeleted})
			}
			obs := podsOf(tt.pods)
			for _, peer := range tt.answer.Peers {
				if obs.pods[peer.Name] == nil {
					obs.pods[peer.Name] = testPod(peer.Name, "")
				}
			}
			computeStatus(p, obs, tt.answer, tt.pollErr)
			s := p.status
			want := statusCounts{tt.wantPhase, tt.wantCompleted, tt.wantPercent, tt.wantRunning}
			if diff := cmp.Diff(want, statusCounts{s.Phase, s.Completed, s.ProgressPercent, s.Running}); diff != "" {
				t.Errorf("status mismatch (-want +got):\n%s", diff)
			}
			var slowest []string
			for _, pp := range s.SlowestPeers {
				slowest = append(slowest, pp.Name)
			}
			if diff := cmp.Diff(tt.wantSlowest, slowest); tt.wantSlowest != nil && diff != "" {
				t.Errorf("slowest peers mismatch (-want +got):\n%s", diff)
			}
			if c := meta.FindStatusCondition(s.Conditions, minibitv1alpha1.ConditionTrackerReady); c == nil || c.Status != tt.wantReady {
				t.Errorf("TrackerReady %+v, want %s", c, tt.wantReady)
			}
			if c := meta.FindStatusCondition(s.Conditions, minibitv1alpha1.ConditionDegraded); c == nil || c.Reason != tt.wantDegraded {
				t.Errorf("Degraded %+v, want reason %s", c, tt.wantDegraded)
			}
			conditions := 5
			if tt.pollErr == nil && tt.answer.InfoHash != "" {
				conditions = 6 // and ContentMismatch, once pinned
			}
			if len(s.Conditions) != conditions {
				t.Errorf("%d conditions, want %d", len(s.Conditions), conditions)
			}
		})
	}
}

// statusCounts is the part of a status TestComputeStatus checks.
type statusCounts struct {
	Phase                       minibitv1alpha1.SwarmPhase
	Completed, Percent, Running int32
}

func TestComputeStatusIsStable(t *testing.T) {
	// A second pass over the same state changes nothing: no write, no reconcile storm.
	swarm := swarmtest.MakeSwarm("s", "ns").Peers(3).Obj()
	answer := api.Swarm{SwarmSummary: api.SwarmSummary{InfoHash: hashA}, Peers: []api.Peer{from(api.Peer{Name: "s-peer-1", Progress: 0.5})}}
	obs := withPods(podsOf(nil), "s-peer-1")
	p := newPass(swarm, t0)
	computeStatus(p, obs, answer, nil)
	swarm.Status = *p.status
	p2 := newPass(swarm, t0.Add(time.Minute))
	computeStatus(p2, obs, answer, nil)
	if diff := cmp.Diff(swarm.Status, *p2.status, sameStatus); diff != "" {
		t.Errorf("status changed on an identical pass (-want +got):\n%s", diff)
	}
}

func TestSlowestPeersAreBounded(t *testing.T) {
	p := newPass(swarmtest.MakeSwarm("s", "ns").Peers(1000).Obj(), t0)
	computeStatus(p, podsOf(nil), api.Swarm{SwarmSummary: api.SwarmSummary{InfoHash: hashA}}, nil)
	if n := len(p.status.SlowestPeers); n != MaxSlowestPeers {
		t.Errorf("%d slowest peers, want %d", n, MaxSlowestPeers)
	}
}

func TestExceededLimit(t *testing.T) {
	tests := []struct {
		name                  string
		peer, seeder, tracker int32
		maxPeer               int32
		want                  string
	}{
		{name: "within", peer: 10, maxPeer: 10},
		{name: "one peer too many", peer: 2, maxPeer: 1, want: ReasonPeerFailureLimit},
		{name: "zero tolerated", peer: 1, maxPeer: 0, want: ReasonPeerFailureLimit},
		{name: "seeders (3 tolerated by default)", seeder: 4, maxPeer: 10, want: ReasonSeederFailureLimit},
		{name: "tracker first", peer: 20, tracker: 4, maxPeer: 10, want: ReasonTrackerFailureLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPass(swarmtest.MakeSwarm("s", "ns").MaxPeerFailures(tt.maxPeer).Obj(), t0)
			p.status.Failed, p.status.SeederFailures, p.status.TrackerFailures = tt.peer, tt.seeder, tt.tracker
			if got, _ := exceededLimit(p); got != tt.want {
				t.Errorf("exceededLimit = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReplacementBackoff(t *testing.T) {
	p := newPass(swarmtest.MakeSwarm("s", "ns").Backoff(time.Second).Obj(), t0)
	for attempt, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if got := p.backoffDelay(int32(attempt)); got != want {
			t.Errorf("backoffDelay(%d) = %s, want %s", attempt, got, want)
		}
	}
	if got := p.backoffDelay(30); got != DefaultBackoffMax {
		t.Errorf("backoffDelay(30) = %s, want the cap %s", got, DefaultBackoffMax)
	}
	d := &minibitv1alpha1.Disruption{Time: metav1.Time{Time: t0.Add(-time.Second)}, Attempt: 1}
	if due, wait := p.replacementDue(d); due || wait != time.Second {
		t.Errorf("replacementDue = %v %s, want false 1s", due, wait)
	}
}

func TestPodsToCreate(t *testing.T) {
	swarm := swarmtest.MakeSwarm("s", "ns").Peers(3).Backoff(time.Second).Status(minibitv1alpha1.SwarmStatus{
		Launched: minibitv1alpha1.Launched{Tracker: true, Seeders: 1, Peers: 3},
		Disruptions: []minibitv1alpha1.Disruption{
			{Pod: "s-peer-0", Reason: minibitv1alpha1.DisruptionFailed, Attempt: 0, Time: metav1.Time{Time: t0.Add(-2 * time.Second)}},
			{Pod: "s-peer-2", Reason: minibitv1alpha1.DisruptionDeleted, Attempt: 3, Time: metav1.Time{Time: t0}},
		},
	}).Obj()
	p := newPass(swarm, t0)
	// s-peer-1 is missing from the cache but not recorded: not created (a stale cache must not
	// make a second pod); s-peer-0's backoff has passed; s-peer-2 waits 8 s.
	todo := p.podsToCreate(podsOf(map[string]corev1.PodPhase{"s-tracker": "", "s-seeder-0": ""}), PodDefaults{}, true)
	if len(todo) != 1 || todo[0].pod.Name != "s-peer-0" || !todo[0].replace || todo[0].pod.Labels[LabelAttempt] != "1" {
		t.Fatalf("todo = %+v, want only the replacement of s-peer-0 at attempt 1", todo)
	}
	if p.wake != 8*time.Second {
		t.Errorf("wake in %s, want 8s for s-peer-2", p.wake)
	}
	p.noteCreated(podsOf(nil), todo, []bool{true})
	if p.status.Restarts != 1 || p.disruption("s-peer-0") != nil || p.disruption("s-peer-2") == nil {
		t.Errorf("after the replacement: restarts %d, disruptions %+v", p.status.Restarts, p.status.Disruptions)
	}
}

func TestChaosVictim(t *testing.T) {
	p := newPass(swarmtest.MakeSwarm("s", "ns").Peers(4).Obj(), t0)
	p.status.Disruptions = []minibitv1alpha1.Disruption{{Pod: "s-peer-1"}}
	obs := podsOf(map[string]corev1.PodPhase{
		"s-peer-0": corev1.PodRunning, "s-peer-1": corev1.PodRunning, "s-peer-2": corev1.PodFailed, "s-peer-3": corev1.PodPending,
		"s-seeder-0": corev1.PodRunning,
	})
	var seen []string
	for i := range 2 {
		seen = append(seen, chaosVictim(p, obs, func(n int) int {
			if n != 2 {
				t.Fatalf("%d candidates, want 2 (active, unrecorded peers)", n)
			}
			return i
		}).Name)
	}
	if diff := cmp.Diff([]string{"s-peer-0", "s-peer-3"}, seen); diff != "" {
		t.Errorf("victims mismatch (-want +got):\n%s", diff)
	}
	if chaosVictim(p, podsOf(nil), func(int) int { return 0 }) != nil {
		t.Error("a victim without pods")
	}
}

func TestHTTPProgress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case api.SwarmPathPrefix + "known":
			_, _ = w.Write([]byte(`{"infoHash":"ab","pieces":4,"peers":[{"name":"p","progress":0.5}]}`))
		case api.SwarmPathPrefix + "garbage":
			_, _ = w.Write([]byte(`{not json`))
		case api.SwarmPathPrefix + "slow":
			select { // answers only after the client gave up
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
		case api.SwarmPathPrefix + "broken":
			http.Error(w, "boom", http.StatusInternalServerError)
		default:
			http.Error(w, `{"error":"unknown"}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	// A generous timeout for the answers that come at once (a loaded machine may take seconds),
	// a short one where the timeout is the point.
	src := HTTPProgress{Client: &http.Client{Timeout: 30 * time.Second}}
	impatient := HTTPProgress{Client: &http.Client{Timeout: 100 * time.Millisecond}}
	ctx := context.Background()
	sw, err := src.SwarmProgress(ctx, srv.URL+"/", "known")
	if err != nil || sw.InfoHash != "ab" || sw.Pieces != 4 || len(sw.Peers) != 1 || sw.Peers[0].Progress != 0.5 {
		t.Errorf("known: %+v %v", sw, err)
	}
	if _, err := src.SwarmProgress(ctx, srv.URL, "unknown"); !errors.Is(err, ErrSwarmUnknown) {
		t.Errorf("unknown: %v, want ErrSwarmUnknown", err)
	}
	for _, name := range []string{"garbage", "broken"} {
		if _, err := src.SwarmProgress(ctx, srv.URL, name); err == nil || errors.Is(err, ErrSwarmUnknown) {
			t.Errorf("%s: error %v, want a failure", name, err)
		}
	}
	if _, err := impatient.SwarmProgress(ctx, srv.URL, "slow"); err == nil || errors.Is(err, ErrSwarmUnknown) {
		t.Errorf("slow: error %v, want a timeout", err)
	}
}

func TestProgressCache(t *testing.T) {
	var c progressCache
	k := types.NamespacedName{Namespace: "ns", Name: "s"}
	c.put(k, polled{at: t0, swarm: api.Swarm{SwarmSummary: api.SwarmSummary{InfoHash: hashA}}})
	if got, ok := c.get(k, t0.Add(time.Second), 5*time.Second); !ok || got.swarm.InfoHash != hashA {
		t.Errorf("fresh entry: %+v %v", got, ok)
	}
	if _, ok := c.get(k, t0.Add(5*time.Second), 5*time.Second); ok {
		t.Error("an entry a period old is still used")
	}
	c.forget(k)
	if _, ok := c.get(k, t0, time.Hour); ok {
		t.Error("a forgotten entry is still used")
	}
}
