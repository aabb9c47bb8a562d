// Package protocol holds the tracker's HTTP protocol as both of its sides see it: the bencoded
// answers to an announce (BEP 3, with compact peers of BEP 23 and BEP 7's "peers6") and to a
// scrape (BEP 48), which the tracker writes and its client reads.
package protocol

import (
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// DefaultInterval is the design note's heartbeat: peers announce every 30 s. The tracker asks
// for it; a client uses it until the tracker names its own.
const DefaultInterval = 30 * time.Second

// FailureDict is the answer to a bad announce or scrape (BEP 3 "failure reason").
type FailureDict struct {
	FailureReason string `bencode:"failure reason"`
}

// AnnounceDict is the answer to an announce (BEP 3) as the tracker writes it, its peers compact
// (BEP 23, and BEP 7 "peers6" for IPv6) or as a list of PeerDict.
type AnnounceDict struct {
	Complete    int   `bencode:"complete"`
	Incomplete  int   `bencode:"incomplete"`
	Interval    int64 `bencode:"interval"`
	MinInterval int64 `bencode:"min interval"`
	// Peers is a []byte of 6-byte entries (compact) or a []PeerDict.
	Peers  any    `bencode:"peers"`
	Peers6 []byte `bencode:"peers6,omitempty"`
}

// PeerDict is one peer of a non-compact announce answer (BEP 3).
type PeerDict struct {
	IP     string `bencode:"ip"`
	PeerID []byte `bencode:"peer id,omitempty"`
	Port   int    `bencode:"port"`
}

// ScrapeDict is the answer to a scrape (BEP 48): counts by 20-byte binary info-hash.
type ScrapeDict struct {
	FailureReason string                    `bencode:"failure reason,omitempty"`
	Files         map[string]ScrapeFileDict `bencode:"files"`
}

// ScrapeFileDict is one swarm's counts in a scrape answer.
type ScrapeFileDict struct {
	Complete   int    `bencode:"complete"`
	Downloaded int    `bencode:"downloaded"`
	Incomplete int    `bencode:"incomplete"`
	Name       string `bencode:"name,omitempty"`
}

// announceReply is what DecodeAnnounce reads an announce answer into: any field may be absent,
// and "peers" is kept raw until its form (string or list) is known.
type announceReply struct {
	FailureReason  string        `bencode:"failure reason"`
	WarningMessage string        `bencode:"warning message"`
	Complete       int           `bencode:"complete"`
	Incomplete     int           `bencode:"incomplete"`
	Interval       int64         `bencode:"interval"`
	MinInterval    int64         `bencode:"min interval"`
	Peers          bencode.Bytes `bencode:"peers"`
	Peers6         []byte        `bencode:"peers6"`
}
