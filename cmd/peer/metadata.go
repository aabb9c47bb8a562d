package main

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/metrics"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/peer/metadata"
	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/client"
)

// This file is get's first way to its torrent: from the swarm's peers (BEP 9 for the info dict,
// BEP 52 hash requests for the piece layers), so that a thousand peers do not all pull a large
// .torrent from the one tracker. The tracker's JSON API names the swarm's info-hash (or
// --info-hash does) and its size, an announce gives peers, and within --metadata-timeout the
// torrent comes from them; otherwise get falls back to the tracker's .torrent.

// DefaultMetadataTimeout is --metadata-timeout's default.
const DefaultMetadataTimeout = 30 * time.Second

// metadataPeers is how many peers the announce for the metadata asks for.
const metadataPeers = 50

// torrentFromPeers returns the swarm's torrent fetched from its peers, or nil (and nil) when it
// cannot: --torrent is given, a timeout of 0, the tracker does not know the swarm yet, or no
// peer gave it within timeout; the caller then fetches the tracker's copy. It records which
// way the torrent came (c.torrentSource) and logs it.
func torrentFromPeers(ctx context.Context, log *slog.Logger, c *common, timeout time.Duration) (*metainfo.MetaInfo, error) {
	if c.torrent != "" {
		return nil, nil
	}
	c.torrentSource = metrics.TorrentFromTracker
	if timeout <= 0 {
		return nil, nil
	}
	meta, err := fetchFromPeers(ctx, log, c, timeout)
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, metadata.ErrInvalidInfo):
		return nil, err // the swarm's own info dict is bad: the tracker holds the same
	case err != nil:
		log.Info("Torrent not fetched from peers: fetching it from the tracker", "swarm", c.swarm, "err", err)
		return nil, nil
	}
	c.torrentSource = metrics.TorrentFromPeers
	log.Info("Torrent fetched from peers", "swarm", c.swarm, "infoHash", hex.EncodeToString(infoHash(meta)), "files", len(meta.Info.Files))
	return meta, nil
}

func infoHash(meta *metainfo.MetaInfo) []byte {
	h := meta.InfoHashV1()
	return h[:]
}

// fetchFromPeers asks the tracker about the swarm, announces for peers and fetches the torrent
// from them within timeout.
func fetchFromPeers(ctx context.Context, log *slog.Logger, c *common, timeout time.Duration) (*metainfo.MetaInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tc := trackerClient(c)
	summary, err := tc.Swarm(ctx, c.swarm)
	if err != nil {
		return nil, err
	}
	cfg, err := metadataConfig(c, summary)
	if err != nil {
		return nil, err
	}
	cfg.Log = log
	port := listenPort(c.listen)
	announce := client.AnnounceRequest{InfoHash: cfg.InfoHash, PeerID: cfg.PeerID, Port: port, Left: max(summary.PayloadBytes, 1),
		Event: "started", NumWant: metadataPeers, Name: c.name}
	resp, err := tc.Announce(ctx, announce)
	if err != nil {
		return nil, err
	}
	defer func() { // the session announces under its own peer id: leave no phantom behind
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		announce.Event = "stopped"
		_, _ = tc.Announce(stopCtx, announce)
	}()
	cfg.Peers = resp.Peers
	cfg.DialTimeout, cfg.StallTimeout = c.timeout, c.timeout
	meta, err := metadata.Fetch(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return meta, c.pin.verify(meta)
}

// metadataConfig is the fetch of the swarm the tracker described: its info-hash (--info-hash
// when given: a pinned peer trusts nothing else), its v2 info-hash (checked too), and a size
// limit from its payload (metainfo.MaxTorrentBytesFor) within the tracker's default.
func metadataConfig(c *common, s api.Swarm) (metadata.Config, error) {
	cfg := metadata.Config{PeerID: peer.NewPeerID(), Announce: announceURL(c.tracker), MaxInfoBytes: api.DefaultMaxTorrentBytes}
	if c.pin.pinned {
		cfg.InfoHash = c.pin.hash
	} else {
		h, err := client.ParseInfoHash(s.InfoHash)
		if err != nil {
			return cfg, err
		}
		cfg.InfoHash = h
	}
	if v2, ok := strings.CutPrefix(s.ContentID, "sha256:"); ok && cfg.InfoHash == infoHashOrZero(s.InfoHash) {
		if b, err := hex.DecodeString(v2); err == nil && len(b) == len(cfg.InfoHashV2) {
			copy(cfg.InfoHashV2[:], b)
		}
	}
	if s.PayloadBytes > 0 && s.PieceLength > 0 {
		cfg.MaxInfoBytes = min(cfg.MaxInfoBytes, metainfo.MaxTorrentBytesFor(s.PayloadBytes, s.PieceLength, max(s.Files, 1)))
	}
	return cfg, nil
}

// infoHashOrZero is the info-hash of the tracker's text, zero when it is not one.
func infoHashOrZero(text string) [20]byte {
	h, _ := client.ParseInfoHash(text)
	return h
}

// announceURL is the announce URL a torrent made by this tracker carries.
func announceURL(tracker string) string {
	if strings.HasSuffix(tracker, "/announce") {
		return tracker
	}
	return strings.TrimSuffix(tracker, "/") + "/announce"
}

// listenPort is the port of --listen, 1 when it has none (the announce needs one; the
// session's own announces carry the real one).
func listenPort(listen string) int {
	_, p, err := net.SplitHostPort(listen)
	if n, perr := strconv.Atoi(p); err == nil && perr == nil && n > 0 && n < 1<<16 {
		return n
	}
	return 1
}

// withTorrentSource adds the way the torrent came to the session's metrics snapshot.
func (c *common) withTorrentSource(snapshot func() metrics.PeerSnapshot) func() metrics.PeerSnapshot {
	return func() metrics.PeerSnapshot {
		s := snapshot()
		s.TorrentSource = c.torrentSource
		return s
	}
}
