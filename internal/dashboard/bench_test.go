package dashboard

import (
	"fmt"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/tracker/api"
)

// BenchmarkSwarmFrame renders one "swarm" event of 100 peers and 4096 pieces: the work of a
// topic's loop per update (twice a second by default), shared by every viewer of the swarm.
func BenchmarkSwarmFrame(b *testing.B) {
	now := time.Now()
	s := api.Swarm{SwarmSummary: api.SwarmSummary{Name: "big", Leechers: 100, StartedAt: &now}, Availability: make([]int, 4096)}
	for i := range s.Availability {
		s.Availability[i] = i % 101
	}
	for i := range 100 {
		have := i * 40
		s.Peers = append(s.Peers, api.Peer{PeerID: fmt.Sprintf("%040d", i), Name: fmt.Sprintf("leecher-%03d", i),
			IP: "10.0.0.1", Port: 6881, Left: int64(4096-have) << 14, DownloadRate: 1 << 20, UploadRate: 1 << 19,
			Progress: float64(have) / 4096, StartedAt: now, LastSeen: now, PiecesHave: &have,
			Health: &api.PeerHealth{Connected: 5, ChokedBy: 2}})
	}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		size = len(frame("swarm", NewSwarmView(s, now, time.Second)))
	}
	b.ReportMetric(float64(size), "bytes/frame")
}
