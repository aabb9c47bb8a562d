package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestServeExposesPeerMetricsAndHealth(t *testing.T) {
	reg := prometheus.NewRegistry()
	snap := PeerSnapshot{PiecesHave: 3, PiecesTotal: 10, BytesDownloaded: 4096, Bans: 2, SecondsToComplete: 1.5}
	reg.MustRegister(NewPeerCollector(func() PeerSnapshot { return snap }, prometheus.Labels{"swarm": "demo"}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, reg) }()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second}

	body := get(t, client, base+"/metrics")
	for _, want := range []string{
		`minibit_peer_pieces{swarm="demo"} 3`,
		`minibit_peer_pieces_total{swarm="demo"} 10`,
		`minibit_peer_downloaded_bytes_total{swarm="demo"} 4096`,
		`minibit_peer_bans_total{swarm="demo"} 2`,
		`minibit_peer_time_to_complete_seconds{swarm="demo"} 1.5`,
		"# TYPE minibit_peer_uploaded_bytes_total counter",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if got := get(t, client, base+"/healthz"); got != "ok\n" {
		t.Errorf("/healthz = %q", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop")
	}
}

func TestServeReportsListenError(t *testing.T) {
	if err := Serve(context.Background(), "256.0.0.1:0", prometheus.NewRegistry()); err == nil {
		t.Fatal("Serve on an invalid address returned nil")
	}
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}
