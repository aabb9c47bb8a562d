package controllers

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/swarmtest"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

func TestPinContent(t *testing.T) {
	swarm := swarmtest.MakeSwarm("s", "ns").Peers(1).Obj()
	obs := withPods(podsOf(nil), "s-peer-0")
	honest := api.Swarm{SwarmSummary: api.SwarmSummary{InfoHash: hashA, Pieces: 8}, Peers: []api.Peer{
		from(api.Peer{Name: "s-peer-0", Progress: 0.5})}}

	p := newPass(swarm, t0)
	computeStatus(p, obs, honest, nil)
	if p.status.InfoHash != hashA || p.status.Pieces != 8 || p.status.ProgressPercent != 50 {
		t.Fatalf("first answer: infoHash %q pieces %d progress %d, want it pinned and counted", p.status.InfoHash, p.status.Pieces, p.status.ProgressPercent)
	}
	wantCondition(t, p, minibitv1alpha1.ConditionContentMismatch, metav1.ConditionFalse, ReasonContentAsPinned)
	wantEvents(t, p, "ContentPinned")

	// A replaced tracker now holds someone else's torrent under the swarm's name, whose peers are
	// all done: nothing of it is taken.
	swarm.Status = *p.status
	intruder := api.Swarm{SwarmSummary: api.SwarmSummary{InfoHash: hashB, Pieces: 3}, Peers: []api.Peer{
		from(api.Peer{Name: "s-peer-0", Seeder: true, Progress: 1})}}
	p = newPass(swarm, t0.Add(time.Minute))
	computeStatus(p, obs, intruder, nil)
	if p.status.InfoHash != hashA || p.status.Pieces != 8 || p.status.ProgressPercent != 50 || p.status.Phase == minibitv1alpha1.PhaseCompleted {
		t.Fatalf("other content: infoHash %q pieces %d progress %d phase %s, want the pinned content's", p.status.InfoHash, p.status.Pieces, p.status.ProgressPercent, p.status.Phase)
	}
	wantCondition(t, p, minibitv1alpha1.ConditionContentMismatch, metav1.ConditionTrue, ReasonTrackerOtherContent)
	wantCondition(t, p, minibitv1alpha1.ConditionDegraded, metav1.ConditionTrue, ReasonContentMismatch)
	wantEvents(t, p, ReasonContentMismatchEvent)

	// The mismatch goes on: one Event was enough.
	swarm.Status = *p.status
	p = newPass(swarm, t0.Add(2*time.Minute))
	computeStatus(p, obs, intruder, nil)
	wantEvents(t, p)
	if diff := cmp.Diff(swarm.Status, *p.status, sameStatus); diff != "" {
		t.Errorf("status changed on an identical pass (-want +got):\n%s", diff)
	}

	// The seeders publish again to a new tracker: back to the pinned content.
	p = newPass(swarm, t0.Add(3*time.Minute))
	computeStatus(p, obs, honest, nil)
	wantCondition(t, p, minibitv1alpha1.ConditionContentMismatch, metav1.ConditionFalse, ReasonContentAsPinned)
	wantCondition(t, p, minibitv1alpha1.ConditionDegraded, metav1.ConditionFalse, ReasonAsExpected)
}

func TestPinContentRefusesMalformedHashes(t *testing.T) {
	for _, h := range []string{"", "ab", strings.ToUpper(hashA), hashA + "00", strings.Repeat("g", 40)} {
		p := newPass(swarmtest.MakeSwarm("s", "ns").Obj(), t0)
		computeStatus(p, podsOf(nil), api.Swarm{SwarmSummary: api.SwarmSummary{InfoHash: h}}, nil)
		if p.status.InfoHash != "" || p.status.Phase != minibitv1alpha1.PhasePending {
			t.Errorf("info-hash %q: pinned %q, phase %s", h, p.status.InfoHash, p.status.Phase)
		}
	}
}

func TestPinnedContentReachesNewPods(t *testing.T) {
	sha := strings.Repeat("c", 64)
	swarm := swarmtest.MakeSwarm("s", "ns").HTTP("https://host/f", sha).Obj()
	before := map[Role][]string{RoleSeeder: argsOf(buildPod(swarm, PodDefaults{}, RoleSeeder, 0, 0)), RolePeer: argsOf(buildPod(swarm, PodDefaults{}, RolePeer, 0, 0))}
	for role, args := range before {
		if hasPrefix(args, "--info-hash") {
			t.Errorf("%s before the pin: %q", role, args)
		}
	}
	swarm.Status.InfoHash = hashA
	for _, role := range []Role{RoleSeeder, RolePeer} {
		if args := argsOf(buildPod(swarm, PodDefaults{}, role, 0, 1)); !slices.Contains(args, "--info-hash="+hashA) {
			t.Errorf("%s after the pin: %q", role, args)
		}
	}
	if args := argsOf(buildPod(swarm, PodDefaults{}, RolePeer, 0, 0)); !slices.Contains(args, "--sha256="+sha) {
		t.Errorf("peer of an http source with sha256: %q", args)
	}
	if args := argsOf(buildPod(swarm, PodDefaults{}, RoleTracker, 0, 0)); hasPrefix(args, "--info-hash") || hasPrefix(args, "--sha256") {
		t.Errorf("tracker: %q", args)
	}
	swarm.Status.InfoHash = "not-a-hash --evil"
	if args := argsOf(buildPod(swarm, PodDefaults{}, RolePeer, 0, 0)); hasPrefix(args, "--info-hash") {
		t.Errorf("a malformed status.infoHash reached the args: %q", args)
	}
}

func wantCondition(t *testing.T, p *pass, kind string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	c := meta.FindStatusCondition(p.status.Conditions, kind)
	if c == nil || c.Status != status || c.Reason != reason {
		t.Errorf("%s: %+v, want %s %s", kind, c, status, reason)
	}
}

// wantEvents checks the reasons of the Events a pass queued (all of them, in order).
func wantEvents(t *testing.T, p *pass, reasons ...string) {
	t.Helper()
	var got []string
	for _, e := range p.events {
		got = append(got, e.reason)
	}
	if !slices.Equal(got, reasons) {
		t.Errorf("events %q, want %q", got, reasons)
	}
}

func argsOf(pod *corev1.Pod) []string { return pod.Spec.Containers[0].Args }

func hasPrefix(args []string, prefix string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, prefix) })
}
