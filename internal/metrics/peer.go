package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// PeerSnapshot is one reading of a peer's state, taken by the peer's session on every scrape.
type PeerSnapshot struct {
	// PiecesHave and PiecesTotal are the verified pieces held and the torrent's piece count.
	PiecesHave, PiecesTotal int
	// BytesUploaded and BytesDownloaded are totals of piece payload since the start.
	BytesUploaded, BytesDownloaded int64
	// UploadRate and DownloadRate are bytes per second over the session's rate window.
	UploadRate, DownloadRate float64
	// PeersConnected counts connections past the handshake.
	PeersConnected int
	// PeersUnchoked and PeersChoked count the connections we upload to and those we refuse.
	PeersUnchoked, PeersChoked int
	// PeersInterested counts the connections that want something we have.
	PeersInterested int
	// PeersSnubbed counts the connections that stopped delivering what we asked.
	PeersSnubbed int
	// HashFailures counts pieces that failed verification.
	HashFailures int64
	// Bans counts peers banned for sending bad data.
	Bans int64
	// TrackerRetries and DialRetries count retried tracker announces and peer dials.
	TrackerRetries, DialRetries int64
	// RequestTimeouts counts block requests released because the peer did not answer in time.
	RequestTimeouts int64
	// SecondsToComplete is the time from start to the verified file, 0 until then.
	SecondsToComplete float64
}

// peerMetric is one exported series and how to read it from a snapshot.
type peerMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*PeerSnapshot) float64
}

// PeerCollector exposes a peer's snapshot as Prometheus metrics. It reads the snapshot once per
// scrape, so the session pays nothing between scrapes.
type PeerCollector struct {
	snapshot func() PeerSnapshot
	metrics  []peerMetric
}

// NewPeerCollector returns a collector that calls snapshot on each scrape. constLabels (may be
// nil) are added to every series, for example the swarm's name.
func NewPeerCollector(snapshot func() PeerSnapshot, constLabels prometheus.Labels) *PeerCollector {
	def := func(name, help string, kind prometheus.ValueType, value func(*PeerSnapshot) float64) peerMetric {
		return peerMetric{
			desc:  prometheus.NewDesc("minibit_peer_"+name, help, nil, constLabels),
			kind:  kind,
			value: value,
		}
	}
	counter, gauge := prometheus.CounterValue, prometheus.GaugeValue
	return &PeerCollector{snapshot: snapshot, metrics: []peerMetric{
		def("pieces", "Verified pieces held.", gauge, func(s *PeerSnapshot) float64 { return float64(s.PiecesHave) }),
		def("pieces_total", "Pieces in the torrent.", gauge, func(s *PeerSnapshot) float64 { return float64(s.PiecesTotal) }),
		def("uploaded_bytes_total", "Piece bytes uploaded.", counter, func(s *PeerSnapshot) float64 { return float64(s.BytesUploaded) }),
		def("downloaded_bytes_total", "Piece bytes downloaded.", counter, func(s *PeerSnapshot) float64 { return float64(s.BytesDownloaded) }),
		def("upload_rate_bytes", "Upload rate in bytes per second over the rate window.", gauge, func(s *PeerSnapshot) float64 { return s.UploadRate }),
		def("download_rate_bytes", "Download rate in bytes per second over the rate window.", gauge, func(s *PeerSnapshot) float64 { return s.DownloadRate }),
		def("peers_connected", "Connected peers (past the handshake).", gauge, func(s *PeerSnapshot) float64 { return float64(s.PeersConnected) }),
		def("peers_unchoked", "Peers we upload to.", gauge, func(s *PeerSnapshot) float64 { return float64(s.PeersUnchoked) }),
		def("peers_choked", "Peers we choke.", gauge, func(s *PeerSnapshot) float64 { return float64(s.PeersChoked) }),
		def("peers_interested", "Peers interested in our pieces.", gauge, func(s *PeerSnapshot) float64 { return float64(s.PeersInterested) }),
		def("peers_snubbed", "Peers that stopped answering our requests.", gauge, func(s *PeerSnapshot) float64 { return float64(s.PeersSnubbed) }),
		def("hash_failures_total", "Pieces that failed SHA-256 verification.", counter, func(s *PeerSnapshot) float64 { return float64(s.HashFailures) }),
		def("bans_total", "Peers banned for sending corrupt data.", counter, func(s *PeerSnapshot) float64 { return float64(s.Bans) }),
		def("tracker_retries_total", "Tracker announces retried after a failure.", counter, func(s *PeerSnapshot) float64 { return float64(s.TrackerRetries) }),
		def("dial_retries_total", "Peer dials retried after a failure.", counter, func(s *PeerSnapshot) float64 { return float64(s.DialRetries) }),
		def("request_timeouts_total", "Block requests released because the peer did not answer in time.", counter, func(s *PeerSnapshot) float64 { return float64(s.RequestTimeouts) }),
		def("time_to_complete_seconds", "Seconds from start to the verified file; 0 until complete.", gauge, func(s *PeerSnapshot) float64 { return s.SecondsToComplete }),
	}}
}

// Describe implements prometheus.Collector.
func (c *PeerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
}

// Collect implements prometheus.Collector.
func (c *PeerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.snapshot()
	for _, m := range c.metrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(&s))
	}
}
