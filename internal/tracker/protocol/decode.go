package protocol

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// This file reads an announce answer, as the client does (and the tracker's tests, to check
// that the client can read whatever the tracker writes). Every byte of it comes from the
// network: malformed peers are errors, never panics.

// FailureError is a "failure reason" the tracker answered an announce or scrape with.
type FailureError struct {
	Reason string
}

// Error implements error.
func (e *FailureError) Error() string { return "failure reason: " + e.Reason }

// AnnounceResponse is the tracker's answer to an announce.
type AnnounceResponse struct {
	// Interval is the heartbeat the tracker asks for; MinInterval the least gap it accepts.
	Interval, MinInterval time.Duration
	// Complete and Incomplete count the swarm's seeders and leechers.
	Complete, Incomplete int
	// Peers is a random sample of the other peers, IPv4 and IPv6.
	Peers []netip.AddrPort
}

// DecodeAnnounce reads a bencoded announce answer; a failure reason is a *FailureError.
func DecodeAnnounce(body []byte) (AnnounceResponse, error) {
	var reply announceReply
	if err := bencode.Unmarshal(body, &reply); err != nil {
		return AnnounceResponse{}, fmt.Errorf("malformed answer: %w", err)
	}
	if reply.FailureReason != "" {
		return AnnounceResponse{}, &FailureError{Reason: reply.FailureReason}
	}
	peers, err := parsePeers(reply.Peers, reply.Peers6)
	if err != nil {
		return AnnounceResponse{}, err
	}
	return AnnounceResponse{
		Interval: time.Duration(reply.Interval) * time.Second, MinInterval: time.Duration(reply.MinInterval) * time.Second,
		Complete: reply.Complete, Incomplete: reply.Incomplete, Peers: peers,
	}, nil
}

// parsePeers reads "peers" (a compact string or a list of dictionaries) and "peers6".
func parsePeers(raw bencode.Bytes, peers6 []byte) ([]netip.AddrPort, error) {
	var peers []netip.AddrPort
	switch {
	case len(raw) == 0:
	case raw[0] == 'l':
		var list []PeerDict
		if err := bencode.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("malformed peer list: %w", err)
		}
		for _, p := range list {
			ip, err := netip.ParseAddr(p.IP)
			if err != nil || p.Port < 1 || p.Port > 65535 {
				return nil, fmt.Errorf("malformed peer %q port %d", truncate(p.IP, 64), p.Port)
			}
			peers = append(peers, netip.AddrPortFrom(ip.Unmap(), uint16(p.Port)))
		}
	default:
		var compact []byte
		if err := bencode.Unmarshal(raw, &compact); err != nil {
			return nil, fmt.Errorf("malformed compact peers: %w", err)
		}
		var err error
		if peers, err = parseCompact(peers, compact, 4); err != nil {
			return nil, err
		}
	}
	return parseCompact(peers, peers6, 16)
}

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
