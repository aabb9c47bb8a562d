package tracker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/tracker/client"
)

// benchSwarmSize is the swarm the announce benchmarks run against.
const benchSwarmSize = 1000

// discardWriter is a reusable http.ResponseWriter that drops the body, so that the benchmark
// measures the tracker, not a recorder.
type discardWriter struct{ header http.Header }

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkAnnounce measures the announce handler (parse, registry update, sample of 5, bencode)
// with 1,000 peers in the swarm, each iteration one peer's heartbeat. Run with -cpu 1.
func BenchmarkAnnounce(b *testing.B) {
	srv := NewServer(Config{})
	hash := id20(1)
	reqs := make([]*http.Request, benchSwarmSize)
	for i := range reqs {
		q := announceValues(hash, peerID(i+1), 6881)
		remote := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 40000).String()
		serve(b, srv, "/announce", q, remote) // join the swarm
		reqs[i] = httptest.NewRequest(http.MethodGet, "/announce?"+q.Encode(), nil)
		reqs[i].RemoteAddr = remote
	}
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		srv.ServeHTTP(w, reqs[i%benchSwarmSize])
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "announces/s")
}

// BenchmarkAnnounceHTTP is BenchmarkAnnounce through the real Client over loopback TCP with
// keep-alive: the cost a peer sees, HTTP stack included.
func BenchmarkAnnounceHTTP(b *testing.B) {
	srv := NewServer(Config{})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := client.NewClient(hs.URL)
	ctx := context.Background()
	hash := id20(1)
	for i := range benchSwarmSize {
		req := client.AnnounceRequest{InfoHash: hash, PeerID: peerID(i + 1), Port: 1 + i, Left: 1}
		if _, err := c.Announce(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		req := client.AnnounceRequest{InfoHash: hash, PeerID: peerID(i%benchSwarmSize + 1), Port: 1 + i%benchSwarmSize, Left: 1}
		if _, err := c.Announce(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "announces/s")
}
