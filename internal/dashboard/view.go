package dashboard

import (
	"time"

	"github.com/minibit-io/minibit/internal/tracker/api"
)

// This file turns the tracker's JSON API types into what the page draws: each peer's state and
// ETA, the swarm's active peers, elapsed time and ETA. It is pure: the clock comes in as now.

// Peer states, as far as the tracker can tell them from announces (and the MiniBit health
// extension). Whether other peers banned a peer only they know: the tracker never sees it.
const (
	// StateSeeding is a peer that held the whole file from its first announce.
	StateSeeding = "seeding"
	// StateDone is a peer that downloaded the whole file (it sent "completed") and now seeds.
	StateDone = "done"
	// StateDownloading is a leecher whose downloaded total grew since its previous announce.
	StateDownloading = "downloading"
	// StateChoked is a leecher that downloaded nothing since its previous announce while most of
	// its connections choke it (from its health report): tit-for-tat keeps it waiting.
	StateChoked = "choked"
	// StateStarting is a leecher heard from only once so far: no rate is known yet.
	StateStarting = "starting"
	// StateStalled is a leecher that downloaded nothing between its last two announces, for no
	// reason the tracker can see.
	StateStalled = "stalled"
	// StateSilent is a peer that missed two heartbeats: maybe gone, dropped after the peer TTL.
	StateSilent = "silent"
)

// SwarmView is one swarm as the page draws it: the event data of /api/v1/swarms/{key}/events.
type SwarmView struct {
	api.SwarmSummary
	// Now is the tracker's clock, to the second, so that the page can tick elapsed time and
	// "completed 12 s ago" between events without trusting the browser's clock.
	Now time.Time `json:"now"`
	// HeartbeatSeconds is the tracker's announce interval: rates and progress move at this pace.
	HeartbeatSeconds float64 `json:"heartbeatSeconds"`
	// Peers are the live peers, as in api.Swarm, each with its state and ETA.
	Peers []PeerView `json:"peers"`
	// Availability and AvailabilityPeers are api.Swarm's: peers holding each piece.
	Availability      []int `json:"availability,omitempty"`
	AvailabilityPeers int   `json:"availabilityPeers,omitempty"`
	// ActivePeers counts live peers that moved bytes between their last two announces.
	ActivePeers int `json:"activePeers"`
	// Done is true when no leecher is left and at least one peer completed.
	Done bool `json:"done"`
	// ElapsedSeconds runs from the first leecher's announce to Now, or to the last completion
	// once Done; 0 before any leecher came.
	ElapsedSeconds float64 `json:"elapsedSeconds"`
	// ETASeconds is when the slowest leecher should be done at the current rates; nil when no
	// leecher is downloading.
	ETASeconds *float64 `json:"etaSeconds,omitempty"`
}

// PeerView is one peer with what the dashboard derives from it.
type PeerView struct {
	api.Peer
	// State is one of the State constants.
	State string `json:"state"`
	// ETASeconds is Left over the download rate; nil when the peer is not downloading.
	ETASeconds *float64 `json:"etaSeconds,omitempty"`
}

// ListView is the event data of /api/v1/events: every swarm without its peers.
type ListView struct {
	Now    time.Time          `json:"now"`
	Swarms []api.SwarmSummary `json:"swarms"`
}

// NewSwarmView derives the page's view of s at now; heartbeat is the tracker's interval.
func NewSwarmView(s api.Swarm, now time.Time, heartbeat time.Duration) SwarmView {
	v := SwarmView{
		SwarmSummary: s.SwarmSummary, Now: now.Truncate(time.Second), HeartbeatSeconds: heartbeat.Seconds(),
		Peers: make([]PeerView, len(s.Peers)), Availability: s.Availability, AvailabilityPeers: s.AvailabilityPeers,
	}
	var slowest, leftSum, rateSum float64
	for i, p := range s.Peers {
		v.Peers[i] = newPeerView(p, now, heartbeat)
		if p.UploadRate > 0 || p.DownloadRate > 0 {
			v.ActivePeers++
		}
		if eta := v.Peers[i].ETASeconds; eta != nil {
			slowest = max(slowest, *eta)
		}
		if !p.Seeder {
			leftSum += float64(p.Left)
			rateSum += p.DownloadRate
		}
	}
	v.Done = s.Leechers == 0 && s.Completed > 0
	if !v.Done && rateSum > 0 {
		eta := max(slowest, leftSum/rateSum) // leechers without a rate yet share the swarm's
		v.ETASeconds = &eta
	}
	v.ElapsedSeconds = elapsed(s.SwarmSummary, v.Done, now)
	return v
}

// elapsed is the download's duration so far, or its total once done.
func elapsed(s api.SwarmSummary, done bool, now time.Time) float64 {
	if s.StartedAt == nil {
		return 0
	}
	end := now
	if done && s.LastCompletedAt != nil {
		end = *s.LastCompletedAt
	}
	return max(0, end.Sub(*s.StartedAt).Seconds())
}

// newPeerView derives p's state and ETA.
func newPeerView(p api.Peer, now time.Time, heartbeat time.Duration) PeerView {
	v := PeerView{Peer: p, State: peerState(p, now, heartbeat)}
	if !p.Seeder && p.DownloadRate > 0 {
		eta := float64(p.Left) / p.DownloadRate
		v.ETASeconds = &eta
	}
	return v
}

// peerState names what p is doing; the first matching rule wins.
func peerState(p api.Peer, now time.Time, heartbeat time.Duration) string {
	h := p.Health
	switch {
	case heartbeat > 0 && now.Sub(p.LastSeen) > 2*heartbeat+time.Second:
		return StateSilent
	case p.Seeder && p.CompletedAt != nil:
		return StateDone
	case p.Seeder:
		return StateSeeding
	case p.DownloadRate > 0:
		return StateDownloading
	case h != nil && h.Connected > 0 && 2*h.ChokedBy > h.Connected:
		return StateChoked
	case !p.LastSeen.After(p.StartedAt):
		return StateStarting
	default:
		return StateStalled
	}
}
