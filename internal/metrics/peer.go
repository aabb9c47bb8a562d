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
	// BansBadBlock and BansBadHashes count the bans by reason: a block proven bad against the
	// piece's merkle hash, leaf hashes that did not hash to it.
	BansBadBlock, BansBadHashes int64
	// HashRequestsSent counts our BEP 52 hash requests; HashRequestsServed and
	// HashRequestsRejected the peers' requests answered with hashes or a hash reject.
	HashRequestsSent, HashRequestsServed, HashRequestsRejected int64
	// TrackerRetries and DialRetries count retried tracker announces and peer dials.
	TrackerRetries, DialRetries int64
	// RequestTimeouts counts block requests released because the peer did not answer in time.
	RequestTimeouts int64
	// SecondsToComplete is the time from start to the verified file, 0 until then.
	SecondsToComplete float64
	// HalfOpen counts accepted connections still in their handshake.
	HalfOpen int
	// ConnectionsRefused counts refused connections by reason (one of RefusalReasons; a
	// missing reason is 0).
	ConnectionsRefused map[string]int64
	// Evictions counts connections that brought nothing, closed for a newcomer.
	Evictions int64
	// TorrentSource is where get found the torrent: TorrentFromPeers or TorrentFromTracker;
	// empty for a seeder or a --torrent file.
	TorrentSource string
}

// Where get found its torrent: the source label of minibit_peer_torrent_fetches_total.
const (
	// TorrentFromPeers: the info dict and piece layers came from the swarm's peers (BEP 9, BEP 52).
	TorrentFromPeers = "peers"
	// TorrentFromTracker: the .torrent came from the tracker (no peer gave it in time).
	TorrentFromTracker = "tracker"
)

// TorrentSources lists every source, in the order the series are exported.
var TorrentSources = []string{TorrentFromPeers, TorrentFromTracker}

// Reasons a peer refuses a connection: the reason label of minibit_peer_connections_refused_total.
const (
	// RefusedHalfOpenFull: the half-open pool was full (the newcomer, or the newest connection
	// of the address holding the most half-open slots, dropped for another address's newcomer).
	RefusedHalfOpenFull = "half_open_full"
	// RefusedHalfOpenPerIP: the address held its share of the half-open pool.
	RefusedHalfOpenPerIP = "half_open_per_ip"
	// RefusedHandshakeTimeout: no handshake came within the handshake timeout.
	RefusedHandshakeTimeout = "handshake_timeout"
	// RefusedPerIP: the address held its share of the established connections.
	RefusedPerIP = "per_ip"
	// RefusedNoSlot: every slot open to it was taken and no connection could be evicted.
	RefusedNoSlot = "no_slot"
	// RefusedDuplicateID: its peer id is connected already (the first connection stays).
	RefusedDuplicateID = "duplicate_id"
	// RefusedBanned: its address or peer id is banned.
	RefusedBanned = "banned"
)

// RefusalReasons lists every reason, in the order the series are exported.
var RefusalReasons = []string{
	RefusedHalfOpenFull, RefusedHalfOpenPerIP, RefusedHandshakeTimeout, RefusedPerIP,
	RefusedNoSlot, RefusedDuplicateID, RefusedBanned,
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
	refused  *prometheus.Desc // one series per reason
	torrent  *prometheus.Desc // one series per torrent source
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
		def("bans_bad_block_total", "Peers banned for a block proven bad against the piece's merkle hash.", counter, func(s *PeerSnapshot) float64 { return float64(s.BansBadBlock) }),
		def("bans_bad_hashes_total", "Peers banned for leaf hashes that do not hash to the piece's merkle hash.", counter, func(s *PeerSnapshot) float64 { return float64(s.BansBadHashes) }),
		def("hash_requests_sent_total", "BEP 52 hash requests sent to find a failed piece's bad blocks.", counter, func(s *PeerSnapshot) float64 { return float64(s.HashRequestsSent) }),
		def("hash_requests_served_total", "Peers' BEP 52 hash requests answered with hashes.", counter, func(s *PeerSnapshot) float64 { return float64(s.HashRequestsServed) }),
		def("hash_requests_rejected_total", "Peers' BEP 52 hash requests answered with a hash reject.", counter, func(s *PeerSnapshot) float64 { return float64(s.HashRequestsRejected) }),
		def("tracker_retries_total", "Tracker announces retried after a failure.", counter, func(s *PeerSnapshot) float64 { return float64(s.TrackerRetries) }),
		def("dial_retries_total", "Peer dials retried after a failure.", counter, func(s *PeerSnapshot) float64 { return float64(s.DialRetries) }),
		def("request_timeouts_total", "Block requests released because the peer did not answer in time.", counter, func(s *PeerSnapshot) float64 { return float64(s.RequestTimeouts) }),
		def("time_to_complete_seconds", "Seconds from start to the verified file; 0 until complete.", gauge, func(s *PeerSnapshot) float64 { return s.SecondsToComplete }),
		def("half_open_connections", "Accepted connections still in their handshake.", gauge, func(s *PeerSnapshot) float64 { return float64(s.HalfOpen) }),
		def("evictions_total", "Connections that brought nothing (no interest, no blocks), closed for a newcomer.", counter, func(s *PeerSnapshot) float64 { return float64(s.Evictions) }),
	}, refused: prometheus.NewDesc("minibit_peer_connections_refused_total",
		"Connections refused or dropped before they were established, by reason.", []string{"reason"}, constLabels),
		torrent: prometheus.NewDesc("minibit_peer_torrent_fetches_total",
			"Torrents get fetched, by source: the swarm's peers (BEP 9) or the tracker.", []string{"source"}, constLabels)}
}

// Describe implements prometheus.Collector.
func (c *PeerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
	ch <- c.refused
	ch <- c.torrent
}

// Collect implements prometheus.Collector.
func (c *PeerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.snapshot()
	for _, m := range c.metrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(&s))
	}
	for _, reason := range RefusalReasons {
		ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(s.ConnectionsRefused[reason]), reason)
	}
	for _, source := range TorrentSources {
		n := 0.0
		if s.TorrentSource == source {
			n = 1
		}
		ch <- prometheus.MustNewConstMetric(c.torrent, prometheus.CounterValue, n, source)
	}
}
