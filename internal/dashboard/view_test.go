package dashboard

import (
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/tracker/api"
)

func TestPeerState(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	beat := 30 * time.Second
	done := now.Add(-time.Minute)
	tests := []struct {
		name string
		peer api.Peer
		want string
	}{
		{"initial seeder", api.Peer{Seeder: true, LastSeen: now}, StateSeeding},
		{"completed", api.Peer{Seeder: true, CompletedAt: &done, LastSeen: now}, StateDone},
		{"downloading", api.Peer{Left: 5, DownloadRate: 100, StartedAt: now.Add(-beat), LastSeen: now}, StateDownloading},
		{"downloading though choked by most", api.Peer{Left: 5, DownloadRate: 100, LastSeen: now,
			Health: &api.PeerHealth{Connected: 4, ChokedBy: 4}}, StateDownloading},
		{"choked by most", api.Peer{Left: 5, StartedAt: now.Add(-beat), LastSeen: now,
			Health: &api.PeerHealth{Connected: 5, ChokedBy: 3}}, StateChoked},
		{"choked by half is not most", api.Peer{Left: 5, StartedAt: now.Add(-beat), LastSeen: now,
			Health: &api.PeerHealth{Connected: 4, ChokedBy: 2}}, StateStalled},
		{"first announce", api.Peer{Left: 5, StartedAt: now, LastSeen: now}, StateStarting},
		{"stalled", api.Peer{Left: 5, StartedAt: now.Add(-2 * beat), LastSeen: now}, StateStalled},
		{"silent for two heartbeats", api.Peer{Left: 5, DownloadRate: 100, LastSeen: now.Add(-2*beat - 2*time.Second)}, StateSilent},
		{"silent seeder", api.Peer{Seeder: true, LastSeen: now.Add(-3 * beat)}, StateSilent},
	}
	for _, tc := range tests {
		if got := peerState(tc.peer, now, beat); got != tc.want {
			t.Errorf("%s: state %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSwarmViewETAAndElapsed(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 500, time.UTC)
	start := now.Add(-90 * time.Second)
	s := api.Swarm{
		SwarmSummary: api.SwarmSummary{Seeders: 1, Leechers: 2, StartedAt: &start},
		Peers: []api.Peer{
			{PeerID: "a", Seeder: true, UploadRate: 300, LastSeen: now},
			{PeerID: "b", Left: 1000, DownloadRate: 100, LastSeen: now}, // 10 s alone
			{PeerID: "c", Left: 3000, DownloadRate: 100, LastSeen: now}, // 30 s alone: the slowest
		},
	}
	v := NewSwarmView(s, now, time.Second)
	if v.ETASeconds == nil || *v.ETASeconds != 30 {
		t.Errorf("ETA %v, want the slowest leecher's 30 s", v.ETASeconds)
	}
	if v.Peers[1].ETASeconds == nil || *v.Peers[1].ETASeconds != 10 || v.Peers[0].ETASeconds != nil {
		t.Errorf("peer ETAs %v %v, want none for the seeder and 10 s for b", v.Peers[0].ETASeconds, v.Peers[1].ETASeconds)
	}
	if v.ElapsedSeconds != 90 || v.ActivePeers != 3 || v.Done || !v.Now.Equal(now.Truncate(time.Second)) {
		t.Errorf("elapsed %v, active %d, done %v, now %v", v.ElapsedSeconds, v.ActivePeers, v.Done, v.Now)
	}

	// A leecher without a rate yet shares the swarm's: (1000+3000+8000)/200 = 60 s.
	s.Peers = append(s.Peers, api.Peer{PeerID: "d", Left: 8000, LastSeen: now})
	if v := NewSwarmView(s, now, time.Second); v.ETASeconds == nil || *v.ETASeconds != 60 {
		t.Errorf("ETA %v, want 60 s", v.ETASeconds)
	}

	// Done: the clock stops at the last completion.
	last := start.Add(42 * time.Second)
	s.Leechers, s.Completed, s.LastCompletedAt, s.Peers = 0, 3, &last, s.Peers[:1]
	v = NewSwarmView(s, now, time.Second)
	if !v.Done || v.ETASeconds != nil || v.ElapsedSeconds != 42 {
		t.Errorf("done %v, ETA %v, elapsed %v; want done, no ETA, 42 s", v.Done, v.ETASeconds, v.ElapsedSeconds)
	}
}

func TestNoLeecherYetMeansNoElapsedNorETA(t *testing.T) {
	v := NewSwarmView(api.Swarm{SwarmSummary: api.SwarmSummary{Seeders: 1}, Peers: []api.Peer{{Seeder: true}}}, time.Now(), time.Second)
	if v.ElapsedSeconds != 0 || v.ETASeconds != nil || v.Done {
		t.Errorf("elapsed %v, ETA %v, done %v for a lone seeder", v.ElapsedSeconds, v.ETASeconds, v.Done)
	}
}
