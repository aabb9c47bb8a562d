// Package api holds the JSON types of the tracker's /api/v1 endpoints: the state of each swarm
// and of each of its peers. The tracker writes them; the operator and dashboards read them.
package api

import "time"

// Paths of the JSON API, relative to the tracker's base URL.
const (
	// SwarmsPath lists every swarm (GET, SwarmList).
	SwarmsPath = "/api/v1/swarms"
	// SwarmPathPrefix is followed by a swarm's name or hex v1 info-hash (GET, Swarm).
	SwarmPathPrefix = "/api/v1/swarms/"
	// TorrentPathPrefix is followed by a swarm's name: PUT stores a .torrent, GET returns it.
	TorrentPathPrefix = "/api/v1/torrents/"
)

// DefaultMaxTorrentBytes bounds one .torrent: the most the tracker stores unless configured
// otherwise, and the most a client fetches unless told otherwise. It is metainfo's own bound
// on a .torrent file (64 MiB: about 1.2 TiB in 256 KiB pieces); the operator gives each swarm's
// tracker the bound its payload needs (metainfo.MaxTorrentBytesFor).
const DefaultMaxTorrentBytes = 64 << 20

// ErrorBody is the JSON body of every API error.
type ErrorBody struct {
	Error string `json:"error"`
}

// SwarmList is the answer to GET /api/v1/swarms.
type SwarmList struct {
	Swarms []SwarmSummary `json:"swarms"`
}

// SwarmSummary is one swarm without its peers.
type SwarmSummary struct {
	// InfoHash is the v1 info-hash in lower-case hex: the key peers announce with.
	InfoHash string `json:"infoHash"`
	// Name is the name the .torrent was stored under, empty when none was stored.
	Name string `json:"name,omitempty"`
	// Length is the file's size in bytes, 0 when the tracker holds no .torrent for the swarm.
	Length int64 `json:"length,omitempty"`
	// PieceLength is the size of a piece in bytes, 0 when unknown.
	PieceLength int64 `json:"pieceLength,omitempty"`
	// Pieces is the number of pieces, 0 when unknown.
	Pieces int `json:"pieces,omitempty"`
	// Files is how many files the stored .torrent holds (pad files not counted; 1 for a
	// single file), 0 when the tracker holds no .torrent.
	Files int `json:"files,omitempty"`
	// PayloadBytes is the files' total size (pad files not counted), 0 when unknown. Length
	// is the v1 piece space (files and pads).
	PayloadBytes int64 `json:"payloadBytes,omitempty"`
	// ContentID is "sha256:" and the v2 info-hash in hex, empty when unknown.
	ContentID string `json:"contentID,omitempty"`
	// Seeders counts live peers with nothing left to download.
	Seeders int `json:"seeders"`
	// Leechers counts live peers still downloading.
	Leechers int `json:"leechers"`
	// Completed counts "completed" events ever received (scrape's "downloaded").
	Completed int `json:"completed"`
	// Progress is the fraction (0..1) of all bytes that the live leechers and the peers that
	// completed hold, over what they would hold complete; 1 when every peer is done.
	Progress float64 `json:"progress"`
	// UploadRate and DownloadRate are the swarm's summed rates in bytes per second.
	UploadRate   float64 `json:"uploadRate"`
	DownloadRate float64 `json:"downloadRate"`
	// CreatedAt is when the tracker first heard of the swarm.
	CreatedAt time.Time `json:"createdAt"`
	// StartedAt is the first announce of a peer with bytes left (the download's start), nil
	// until one came.
	StartedAt *time.Time `json:"startedAt,omitempty"`
	// LastCompletedAt is the latest "completed" event, nil before the first.
	LastCompletedAt *time.Time `json:"lastCompletedAt,omitempty"`
}

// Swarm is the answer to GET /api/v1/swarms/{name or info-hash}.
type Swarm struct {
	SwarmSummary
	// Peers are the live peers, sorted by peer id.
	Peers []Peer `json:"peers"`
	// Availability is, for each piece, how many peers hold it: the seeders, plus the leechers
	// that sent their bitfield (the MiniBit "bitfield" announce extension). It is empty when the
	// tracker holds no .torrent for the swarm (the piece count is unknown then).
	Availability []int `json:"availability,omitempty"`
	// AvailabilityPeers counts the peers that Availability is made of; leechers that send no
	// bitfield (standard clients) are not in it.
	AvailabilityPeers int `json:"availabilityPeers,omitempty"`
}

// Peer is one live peer of a swarm, as its announces describe it.
type Peer struct {
	// PeerID is the 20-byte peer id, hex encoded.
	PeerID string `json:"peerId"`
	// Name is the MiniBit "name" announce parameter (a pod or host name), empty for other clients.
	Name string `json:"name,omitempty"`
	// IP is the address the peer's announces come from (the TCP source address, never a
	// client-supplied "ip" parameter): an operator can match it to a pod's IP. The tracker
	// refuses an announce of the peer's id from another IP while the peer is live.
	IP string `json:"ip"`
	// Port is the port the peer announced it accepts connections on.
	Port int `json:"port"`
	// Left is the byte count the peer still needs, from its last announce.
	Left int64 `json:"left"`
	// Uploaded and Downloaded are byte totals from its last announce.
	Uploaded   int64 `json:"uploaded"`
	Downloaded int64 `json:"downloaded"`
	// UploadRate and DownloadRate are bytes per second between its last two announces.
	UploadRate   float64 `json:"uploadRate"`
	DownloadRate float64 `json:"downloadRate"`
	// Progress is 1 - Left/Length (0..1); 0 when the length is unknown and Left > 0.
	Progress float64 `json:"progress"`
	// Seeder is true when Left is 0.
	Seeder bool `json:"seeder"`
	// StartedAt is the first announce; LastSeen the latest one.
	StartedAt time.Time `json:"startedAt"`
	LastSeen  time.Time `json:"lastSeen"`
	// CompletedAt is when the peer sent "completed", nil before that or for initial seeders.
	CompletedAt *time.Time `json:"completedAt,omitempty"`
	// PiecesHave counts the pieces in the peer's last bitfield (all pieces for a seeder); nil
	// when the peer sent none or the piece count is unknown.
	PiecesHave *int `json:"piecesHave,omitempty"`
	// Health is what the peer said of its connections (the MiniBit "connected", "choked_by",
	// "bans" and "hash_failures" announce extension); nil for standard clients.
	Health *PeerHealth `json:"health,omitempty"`
}

// PeerHealth is a peer's own view of its connections, as its last announce reported it. The
// tracker cannot see these itself: choking and bans happen between peers.
type PeerHealth struct {
	// Connected counts the peer's connections past the handshake.
	Connected int `json:"connected"`
	// ChokedBy counts those of them that choke the peer (refuse to upload to it).
	ChokedBy int `json:"chokedBy"`
	// Bans counts the peers this peer banned for sending corrupt data.
	Bans int64 `json:"bans"`
	// HashFailures counts the pieces that failed verification at this peer.
	HashFailures int64 `json:"hashFailures"`
}
