package sim

import (
	"testing"
	"time"
)

// TestPipelineCoversALongRoundTrip: a leecher 225 ms away from an uncapped seeder (a 450 ms
// round trip, like Transmission's paced answers) gets no more than its pipeline per round
// trip. With a pipeline sized from the rate alone (4 blocks, 145 KB/s) 4 MiB take about 29 s;
// sized from the rate and the latency it deepens as the rate grows.
func TestPipelineCoversALongRoundTrip(t *testing.T) {
	t.Parallel()
	sc := labShaped(1, 1, 4*mib, 256*kib, 0)
	sc.Latency = 225 * time.Millisecond
	r := run(t, sc)
	leecher := r.Peers[1]
	t.Logf("leecher done %v at %v", leecher.Done, leecher.Completed)
	if !leecher.Done || leecher.Completed > 15*time.Second {
		t.Errorf("leecher done %v at %v; want within 15 s (a 4-block pipeline takes about 29 s)", leecher.Done, leecher.Completed)
	}
}
