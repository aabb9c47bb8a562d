package client

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// This file is the pinned content of a swarm, on the peers' side: a peer told the swarm's v1
// info-hash (a Swarm's status.infoHash, the peer's --info-hash) refuses any other torrent,
// whoever stored it at the tracker.

// ErrWrongTorrent is returned when a torrent is not the pinned one.
var ErrWrongTorrent = errors.New("not the pinned torrent")

// ParseInfoHash reads a v1 info-hash written as 40 hex digits (either case).
func ParseInfoHash(text string) ([20]byte, error) {
	var h [20]byte
	b, err := hex.DecodeString(strings.TrimSpace(text))
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("an info-hash is 40 hex digits, got %q", truncate(text, 64))
	}
	copy(h[:], b)
	return h, nil
}

// CheckPin returns nil when meta's v1 info-hash is pin, otherwise an error wrapping
// ErrWrongTorrent that names both hashes.
func CheckPin(meta *metainfo.MetaInfo, pin [20]byte) error {
	if got := meta.InfoHashV1(); got != pin {
		return fmt.Errorf("%w: the torrent %q has info-hash %x, the pinned one is %x", ErrWrongTorrent, truncate(meta.Info.Name, 64), got, pin)
	}
	return nil
}

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
