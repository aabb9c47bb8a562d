package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// TrackerCounts is one reading of the tracker's registry, taken on every scrape.
type TrackerCounts struct {
	// Swarms counts the swarms the tracker knows, empty ones holding a stored torrent included.
	Swarms int
	// Peers, Seeders and Leechers count the live peers of all swarms (Peers = Seeders + Leechers).
	Peers, Seeders, Leechers int
}

// Tracker holds the tracker's metrics. Its counters are updated by the tracker's handlers; its
// gauges are read from the registry through the counts function on each scrape.
type Tracker struct {
	// Announces counts announce requests by event ("started", "completed", "stopped", "none",
	// "invalid") and result ("ok", "failure").
	Announces *prometheus.CounterVec
	// PeersReaped counts peers dropped for not announcing within the peer TTL.
	PeersReaped prometheus.Counter
	// ScrapeRequests counts scrape requests.
	ScrapeRequests prometheus.Counter
	// RequestDuration observes the time to answer each HTTP request, by handler.
	RequestDuration *prometheus.HistogramVec
	// UploadsRefused counts torrent uploads refused for their credential, by reason
	// ("missing_token", "wrong_token").
	UploadsRefused *prometheus.CounterVec
	// RequestsRefused counts announces and scrapes refused by the tracker's trust rules, by
	// request ("announce", "scrape") and reason ("unregistered", "peer_id_elsewhere").
	RequestsRefused *prometheus.CounterVec

	counts                           func() TrackerCounts
	swarms, peers, seeders, leechers *prometheus.Desc
}

// NewTracker returns the tracker's metrics; counts is called once per scrape for the gauges.
// Register the result with a prometheus.Registerer (it is a prometheus.Collector).
func NewTracker(counts func() TrackerCounts) *Tracker {
	gauge := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("minibit_tracker_"+name, help, nil, nil)
	}
	t := &Tracker{
		Announces: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minibit_tracker_announces_total",
			Help: "Announce requests by event and result.",
		}, []string{"event", "result"}),
		PeersReaped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "minibit_tracker_peers_reaped_total",
			Help: "Peers dropped because they did not announce within the peer TTL.",
		}),
		ScrapeRequests: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "minibit_tracker_scrape_requests_total",
			Help: "Scrape requests (BEP 48).",
		}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "minibit_tracker_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by handler.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"handler"}),
		UploadsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minibit_tracker_torrent_uploads_refused_total",
			Help: "Torrent uploads refused for a missing or wrong publish token, by reason.",
		}, []string{"reason"}),
		RequestsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minibit_tracker_requests_refused_total",
			Help: "Announces and scrapes refused for an unregistered torrent or a peer id live at another IP.",
		}, []string{"request", "reason"}),
		counts:   counts,
		swarms:   gauge("swarms", "Swarms known to the tracker."),
		peers:    gauge("peers", "Live peers in all swarms."),
		seeders:  gauge("seeders", "Live peers with nothing left to download."),
		leechers: gauge("leechers", "Live peers still downloading."),
	}
	// Every series exists from the start, at 0, so that a rate() over it is never empty.
	for _, reason := range []string{"missing_token", "wrong_token"} {
		t.UploadsRefused.WithLabelValues(reason)
	}
	for _, rr := range [][2]string{{"announce", "unregistered"}, {"announce", "peer_id_elsewhere"}, {"scrape", "unregistered"}} {
		t.RequestsRefused.WithLabelValues(rr[0], rr[1])
	}
	return t
}

// Describe implements prometheus.Collector.
func (t *Tracker) Describe(ch chan<- *prometheus.Desc) {
	t.Announces.Describe(ch)
	t.PeersReaped.Describe(ch)
	t.ScrapeRequests.Describe(ch)
	t.RequestDuration.Describe(ch)
	t.UploadsRefused.Describe(ch)
	t.RequestsRefused.Describe(ch)
	for _, d := range []*prometheus.Desc{t.swarms, t.peers, t.seeders, t.leechers} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (t *Tracker) Collect(ch chan<- prometheus.Metric) {
	t.Announces.Collect(ch)
	t.PeersReaped.Collect(ch)
	t.ScrapeRequests.Collect(ch)
	t.RequestDuration.Collect(ch)
	t.UploadsRefused.Collect(ch)
	t.RequestsRefused.Collect(ch)
	c := t.counts()
	for desc, v := range map[*prometheus.Desc]int{
		t.swarms: c.Swarms, t.peers: c.Peers, t.seeders: c.Seeders, t.leechers: c.Leechers,
	} {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(v))
	}
}
