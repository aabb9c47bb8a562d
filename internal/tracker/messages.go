package tracker

import (
	"github.com/anacrolix/torrent/bencode"
)

// This file holds the bencoded messages of the tracker protocol, as the server writes them and
// the client reads them.

// failureResponse is the answer to a bad announce or scrape (BEP 3 "failure reason").
type failureResponse struct {
	FailureReason string `bencode:"failure reason"`
}

// announceResponse is the answer to an announce (BEP 3), its peers compact (BEP 23, and BEP 7
// "peers6" for IPv6) or as a list of dictPeer.
type announceResponse struct {
	Complete    int   `bencode:"complete"`
	Incomplete  int   `bencode:"incomplete"`
	Interval    int64 `bencode:"interval"`
	MinInterval int64 `bencode:"min interval"`
	// Peers is a []byte of 6-byte entries (compact) or a []dictPeer.
	Peers  any    `bencode:"peers"`
	Peers6 []byte `bencode:"peers6,omitempty"`
}

// dictPeer is one peer of a non-compact announce answer (BEP 3).
type dictPeer struct {
	IP     string `bencode:"ip"`
	PeerID []byte `bencode:"peer id,omitempty"`
	Port   int    `bencode:"port"`
}

// announceReply is what the client decodes an announce answer into: any field may be absent,
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

// scrapeResponse is the answer to a scrape (BEP 48): counts by 20-byte binary info-hash.
type scrapeResponse struct {
	FailureReason string                `bencode:"failure reason,omitempty"`
	Files         map[string]scrapeFile `bencode:"files"`
}

// scrapeFile is one swarm's counts in a scrape answer.
type scrapeFile struct {
	Complete   int    `bencode:"complete"`
	Downloaded int    `bencode:"downloaded"`
	Incomplete int    `bencode:"incomplete"`
	Name       string `bencode:"name,omitempty"`
}
