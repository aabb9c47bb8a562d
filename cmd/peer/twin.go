package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/minibit-io/minibit/internal/backoff"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/protocol"
)

// twinFlags are --v1-twin and --v1-twin-file of seed and get: the swarm's content served under
// its v1-only twin too, for clients that know only BitTorrent v1 (internal/peer/twin.go).
type twinFlags struct {
	on   bool
	file string
}

func addTwinFlags(fs *flag.FlagSet) *twinFlags {
	t := &twinFlags{}
	fs.BoolVar(&t.on, "v1-twin", false, "also serve the content under the torrent's v1-only twin, for BitTorrent v1 clients "+
		"(aria2, Transmission 3.00); a seeder with --swarm publishes the twin at TRACKER/api/v1/torrents/SWARM/v1-twin")
	fs.StringVar(&t.file, "v1-twin-file", "", "write the v1 twin's .torrent to this file (implies --v1-twin)")
	return t
}

// seed turns the twin on for a seeder and, when it published the swarm's torrent (--swarm
// without --torrent), publishes the twin beside it and keeps it published.
func (t *twinFlags) seed(ctx context.Context, log *slog.Logger, c *common, cfg *peer.Config, token string) error {
	twin, err := t.apply(log, cfg)
	if err != nil || twin == nil || c.torrent != "" {
		return err
	}
	tc := trackerClient(c)
	tc.PublishToken = token
	go publishTwin(ctx, log, tc, c.swarm, twin)
	return nil
}

// get turns the twin on for a leecher: it serves what it holds to v1 clients too.
func (t *twinFlags) get(log *slog.Logger, cfg *peer.Config) error {
	_, err := t.apply(log, cfg)
	return err
}

// apply sets cfg.V1Twin and writes --v1-twin-file; it returns the twin's bytes, nil when the
// flags ask for no twin.
func (t *twinFlags) apply(log *slog.Logger, cfg *peer.Config) ([]byte, error) {
	if !t.on && t.file == "" {
		return nil, nil
	}
	twin, hash, err := cfg.Torrent.EncodeV1Twin()
	if err != nil {
		return nil, err
	}
	cfg.V1Twin = true
	if t.file != "" {
		if err := os.WriteFile(t.file, twin, 0o644); err != nil {
			return nil, fmt.Errorf("--v1-twin-file: %w", err)
		}
	}
	log.Info("Serving the v1 twin too", "twinInfoHash", fmt.Sprintf("%x", hash), "file", t.file)
	return twin, nil
}

// publishTwin stores the twin at the tracker beside the swarm's torrent (retrying as the
// torrent's publication does), then keeps it published until ctx ends.
func publishTwin(ctx context.Context, log *slog.Logger, tc *client.Client, swarm string, twin []byte) {
	attempt := 0
	err := backoff.Retry(ctx, untilContextEnds, func(ctx context.Context) error {
		attempt++
		err := tc.PublishTwin(ctx, swarm, twin)
		if errors.Is(err, client.ErrConflict) || errors.Is(err, client.ErrUnauthorized) {
			return backoff.Permanent(err)
		}
		if err != nil {
			log.Warn("Could not publish the v1 twin yet", "swarm", swarm, "attempt", attempt, "err", err)
		}
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			log.Error("Could not publish the v1 twin: v1 clients cannot fetch it from the tracker", "swarm", swarm, "err", err)
		}
		return
	}
	log.Info("v1 twin published", "swarm", swarm, "url", tc.BaseURL+client.TwinPath(swarm))
	tc.KeepTwinPublished(ctx, swarm, twin, protocol.DefaultInterval, log)
}
