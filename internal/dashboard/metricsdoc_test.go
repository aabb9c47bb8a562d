package dashboard_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/minibit-io/minibit/internal/metrics"
	"github.com/minibit-io/minibit/internal/tracker"
)

// These tests keep docs/metrics.md and config/prometheus/grafana-dashboard.json true to the code:
// the metric tables of the doc are generated from the registered collectors (go test
// ./internal/dashboard -run TestMetricsDoc -update rewrites them), and the Grafana dashboard may
// name only metrics that exist.

var update = flag.Bool("update", false, "rewrite the generated tables of docs/metrics.md")

const (
	metricsDoc       = "../../docs/metrics.md"
	grafanaDashboard = "../../config/prometheus/grafana-dashboard.json"
)

// trackerFamilies gathers a real tracker's metrics after one request of each kind, so that
// every labelled series exists.
func trackerFamilies(t *testing.T) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	srv := tracker.NewServer(tracker.Config{Registerer: reg})
	for _, path := range []string{"/announce", "/scrape", "/healthz"} {
		srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	fams := gatherAll(t, reg, "minibit_tracker_")
	descs := make(chan *prometheus.Desc, 64)
	metrics.NewTracker(nil).Describe(descs)
	close(descs)
	if len(descs) != len(fams) {
		t.Fatalf("the tracker describes %d metrics but %d were gathered: give every new labelled vector a sample above", len(descs), len(fams))
	}
	return fams
}

// peerFamilies gathers a peer collector's metrics as cmd/peer registers it.
func peerFamilies(t *testing.T) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewPeerCollector(func() metrics.PeerSnapshot { return metrics.PeerSnapshot{} },
		prometheus.Labels{"swarm": "example"}))
	return gatherAll(t, reg, "minibit_peer_")
}

// gatherAll gathers the metrics of reg whose names start with prefix.
func gatherAll(t *testing.T, reg *prometheus.Registry, prefix string) []*dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []*dto.MetricFamily
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), prefix) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s metrics gathered", prefix)
	}
	return out
}

// metricsTable renders families as the doc's Markdown table.
func metricsTable(fams []*dto.MetricFamily) string {
	var b strings.Builder
	b.WriteString("| name | type | labels | meaning |\n|---|---|---|---|\n")
	for _, f := range fams {
		var labels []string
		if len(f.GetMetric()) > 0 {
			for _, lp := range f.GetMetric()[0].GetLabel() {
				labels = append(labels, "`"+lp.GetName()+"`")
			}
		}
		slices.Sort(labels)
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.GetName(), strings.ToLower(f.GetType().String()),
			strings.Join(labels, ", "), f.GetHelp())
	}
	return b.String()
}

// generatedBlock finds the text between the doc's markers of section name.
func generatedBlock(doc, name string) (start, end int, ok bool) {
	begin, finish := "<!-- BEGIN GENERATED "+name+" -->\n", "<!-- END GENERATED "+name+" -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, finish)
	if i < 0 || j < i {
		return 0, 0, false
	}
	return i + len(begin), j, true
}

func TestMetricsDocMatchesTheCode(t *testing.T) {
	raw, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, section := range []struct {
		name string
		fams []*dto.MetricFamily
	}{{"tracker", trackerFamilies(t)}, {"peer", peerFamilies(t)}} {
		start, end, ok := generatedBlock(doc, section.name)
		if !ok {
			t.Fatalf("%s has no generated block %q", metricsDoc, section.name)
		}
		want := metricsTable(section.fams)
		if doc[start:end] == want {
			continue
		}
		if !*update {
			t.Errorf("the %s table of %s differs from the code; run go test ./internal/dashboard -run TestMetricsDoc -update\nwant:\n%s", section.name, metricsDoc, want)
			continue
		}
		doc = doc[:start] + want + doc[end:]
	}
	if *update {
		if err := os.WriteFile(metricsDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGrafanaDashboardNamesOnlyRealMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Clean(grafanaDashboard))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s is not JSON: %v", grafanaDashboard, err)
	}
	known := map[string]bool{}
	for _, f := range append(trackerFamilies(t), peerFamilies(t)...) {
		known[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				known[f.GetName()+suffix] = true
			}
		}
	}
	name := regexp.MustCompile(`\bminibit_[a-z0-9_]+`)
	used := map[string]bool{}
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, m := range name.FindAllString(target.Expr, -1) {
				used[m] = true
				if !known[m] {
					t.Errorf("panel %q uses %s, which no MiniBit binary exports", p.Title, m)
				}
			}
		}
	}
	for _, must := range []string{"minibit_peer_pieces", "minibit_peer_download_rate_bytes", "minibit_peer_upload_rate_bytes", "minibit_peer_hash_failures_total", "minibit_tracker_peers"} {
		if !used[must] {
			t.Errorf("the Grafana dashboard does not show %s", must)
		}
	}
}
