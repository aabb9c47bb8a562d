package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"strings"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/tracker/client"
)

// This file holds what a peer trusts: the pinned torrent (--info-hash, seed and get), the
// finished file's SHA-256 (get --sha256, which the session checks: peer.Config.WantSHA256) and
// the publish secret (seed --publish-secret-file).

// pinFlags is --info-hash: the v1 info-hash of the swarm's content (a Swarm's status.infoHash).
type pinFlags struct {
	infoHash string
	hash     [20]byte // set by check
	pinned   bool
}

func (p *pinFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&p.infoHash, "info-hash", "", "v1 info-hash (40 hex digits) the torrent must have; any other torrent is refused")
}

// check parses --info-hash.
func (p *pinFlags) check() error {
	if p.infoHash == "" {
		return nil
	}
	h, err := client.ParseInfoHash(p.infoHash)
	if err != nil {
		return usagef("--info-hash: %v", err)
	}
	p.hash, p.pinned = h, true
	return nil
}

// verify refuses meta when a torrent is pinned and meta is another.
func (p *pinFlags) verify(meta *metainfo.MetaInfo) error {
	if !p.pinned {
		return nil
	}
	if err := client.CheckPin(meta, p.hash); err != nil {
		return fmt.Errorf("--info-hash: %w", err)
	}
	return nil
}

// parseSHA256 reads a SHA-256 written as 64 hex digits (either case); empty is none.
func parseSHA256(flagName, text string) (string, error) {
	text = strings.ToLower(strings.TrimSpace(text))
	if text == "" {
		return "", nil
	}
	if b, err := hex.DecodeString(text); err != nil || len(b) != sha256.Size {
		return "", usagef("--%s must be 64 hex digits, got %q", flagName, text)
	}
	return text, nil
}

// readPublishToken reads --publish-secret-file; empty path is no token.
func readPublishToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	return client.ReadSecretFile(path)
}
