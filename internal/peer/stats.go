package peer

import (
	"time"

	"github.com/minibit-io/minibit/internal/metrics"
)

// Stats is a reading of a session's state (the design note's concept 8: progress, speeds,
// network health).
type Stats struct {
	// PiecesHave and PiecesTotal are the verified pieces and the torrent's piece count.
	PiecesHave, PiecesTotal int
	// BytesLeft is what remains to download.
	BytesLeft int64
	// BytesUploaded and BytesDownloaded count piece payload since the start.
	BytesUploaded, BytesDownloaded int64
	// UploadRate and DownloadRate are bytes/s over the rate window (Config.RateWindow).
	UploadRate, DownloadRate float64
	// PeersConnected counts connections past the handshake; PeersUnchoked those we upload to,
	// PeersChoked the others; PeersInterested those that want our pieces; PeersSnubbed those
	// that stopped answering our requests.
	PeersConnected, PeersUnchoked, PeersChoked, PeersInterested, PeersSnubbed int
	// HashFailures counts pieces that failed verification; Bans the peers banned for them.
	HashFailures, Bans int64
	// BansBadBlock counts the bans of peers proven to send a bad block, BansBadHashes of peers
	// whose leaf hashes did not hash to the piece's hash (blame.go).
	BansBadBlock, BansBadHashes int64
	// HashRequestsSent counts our BEP 52 hash requests; HashRequestsServed and
	// HashRequestsRejected the peers' requests we answered with hashes or a hash reject.
	HashRequestsSent, HashRequestsServed, HashRequestsRejected int64
	// RequestTimeouts counts requests given back because the peer did not answer in time.
	RequestTimeouts int64
	// DialRetries and TrackerRetries count retried dials and tracker announces.
	DialRetries, TrackerRetries int64
	// Complete reports the verified file in place; TimeToComplete is how long the download took
	// (0 for a seeder that started complete, or before completion).
	Complete       bool
	TimeToComplete time.Duration
	// TimeToVerify is how long until every piece was verified, before the file was synced to
	// disk and renamed (TimeToComplete includes both).
	TimeToVerify time.Duration
	// HalfOpen counts accepted connections in their handshake; Refused the connections refused
	// by reason (the names of metrics.RefusalReasons); Evictions those closed for a newcomer.
	HalfOpen  int
	Refused   map[string]int64
	Evictions int64
}

// Stats returns the session's current state.
func (s *Session) Stats() Stats {
	now := time.Now()
	st := Stats{
		PiecesTotal:    s.meta.NumPieces(),
		Bans:           s.bans.Total(),
		TrackerRetries: s.trackerRetries.Load(),
		TimeToComplete: time.Duration(s.completedNanos.Load()),
		TimeToVerify:   time.Duration(s.verifiedNanos.Load()),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.core.Snapshot(now)
	n := snap.Counters
	st.BytesUploaded, st.BytesDownloaded = n.BytesUploaded, n.BytesDownloaded
	st.HashFailures, st.RequestTimeouts = n.HashFailures, n.RequestTimeouts
	st.HashRequestsSent, st.HashRequestsServed, st.HashRequestsRejected =
		n.HashRequestsSent, n.HashRequestsServed, n.HashRequestsRejected
	st.BansBadBlock, st.BansBadHashes = snap.BansBadBlock, snap.BansBadHashes
	st.PiecesHave = snap.PiecesHave
	st.BytesLeft = snap.BytesLeft
	st.UploadRate, st.DownloadRate = snap.UploadRate, snap.DownloadRate
	st.Complete = snap.Complete
	st.PeersConnected = snap.Conns
	st.PeersChoked, st.PeersUnchoked = snap.Choked, snap.Unchoked
	st.PeersInterested, st.PeersSnubbed = snap.Interested, snap.Snubbed
	st.DialRetries = n.DialRetries
	slotStats(&st, snap)
	return st
}

// MetricsSnapshot reads the session for its Prometheus collector (metrics.NewPeerCollector).
func (s *Session) MetricsSnapshot() metrics.PeerSnapshot {
	st := s.Stats()
	return metrics.PeerSnapshot{
		PiecesHave:           st.PiecesHave,
		PiecesTotal:          st.PiecesTotal,
		BytesUploaded:        st.BytesUploaded,
		BytesDownloaded:      st.BytesDownloaded,
		UploadRate:           st.UploadRate,
		DownloadRate:         st.DownloadRate,
		PeersConnected:       st.PeersConnected,
		PeersUnchoked:        st.PeersUnchoked,
		PeersChoked:          st.PeersChoked,
		PeersInterested:      st.PeersInterested,
		PeersSnubbed:         st.PeersSnubbed,
		HashFailures:         st.HashFailures,
		Bans:                 st.Bans,
		TrackerRetries:       st.TrackerRetries,
		DialRetries:          st.DialRetries,
		RequestTimeouts:      st.RequestTimeouts,
		SecondsToComplete:    st.TimeToComplete.Seconds(),
		HalfOpen:             st.HalfOpen,
		ConnectionsRefused:   st.Refused,
		Evictions:            st.Evictions,
		BansBadBlock:         st.BansBadBlock,
		BansBadHashes:        st.BansBadHashes,
		HashRequestsSent:     st.HashRequestsSent,
		HashRequestsServed:   st.HashRequestsServed,
		HashRequestsRejected: st.HashRequestsRejected,
	}
}
