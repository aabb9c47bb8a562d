package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/minibit-io/minibit/internal/nodecache"
	"github.com/minibit-io/minibit/internal/peer"
)

// cacheFlags are get's node cache flags: with --cache-root the file (or a multi-file torrent's
// directory) is kept in the node cache instead of --dir.
type cacheFlags struct {
	root, name string
	retention  time.Duration
}

func (f *cacheFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.root, "cache-root", "", "node cache root (absolute): keep the file (or directory) there by content, instead of --dir, and link it as by-name/NAMESPACE/SWARM once verified")
	fs.StringVar(&f.name, "cache-name", "", "the stable name of this copy in the node cache: NAMESPACE/SWARM, both DNS labels (with --cache-root)")
	fs.DurationVar(&f.retention, "cache-retention", nodecache.DefaultRetention, "how long a copy no name links to stays in the node cache before the clean-up removes it")
}

// check validates the cache flags against --dir and returns the parsed name.
func (f *cacheFlags) check(dir string) (nodecache.Name, error) {
	switch {
	case f.root == "" && (f.name != "" || dir == ""):
		return nodecache.Name{}, usagef("get: give --dir, or --cache-root and --cache-name")
	case f.root == "":
		return nodecache.Name{}, nil
	case dir != "":
		return nodecache.Name{}, usagef("get: give --dir or --cache-root, not both")
	case f.retention < 0:
		return nodecache.Name{}, usagef("get: --cache-retention must not be negative")
	}
	if err := nodecache.CheckRoot(f.root); err != nil {
		return nodecache.Name{}, usagef("get: --cache-root: %v", err)
	}
	name, err := nodecache.ParseName(f.name)
	if err != nil {
		return nodecache.Name{}, usagef("get: --cache-name: %v", err)
	}
	return name, nil
}

// runCachedSession runs get's session on the node cache's copy: a verified copy is linked and
// seeded at once, without hashing; otherwise the copy is downloaded (or verified and repaired),
// then recorded and linked. The clean-up runs at the start and every nodecache.GCInterval.
func runCachedSession(ctx context.Context, c *common, cfg peer.Config, f cacheFlags, name nodecache.Name) error {
	log := cfg.Logger
	cache, err := nodecache.Open(f.root)
	if err != nil {
		return err
	}
	entry, err := cache.Acquire(ctx, log, nodecache.ContentOf(cfg.Torrent))
	if err != nil {
		return err
	}
	defer func() { _ = entry.Close() }()
	wantSHA := cfg.WantSHA256
	cfg.Path = entry.Path()
	switch {
	case entry.Hit() && entry.WantSHA256Done(wantSHA):
		if err := entry.Link(name); err != nil {
			return err
		}
		cfg.Seed, cfg.Trusted, cfg.WantSHA256 = true, true, ""
		log.Info("Cache hit: verified copy, not re-hashed", "file", cfg.Path, "name", name.String())
	case entry.Hit(): // verified piece by piece, but --sha256 was never checked: once, then recorded
		cfg.Seed, cfg.Trusted = true, true
		log.Info("Cache hit: verified copy, not re-hashed; its SHA-256 is checked once", "file", cfg.Path, "name", name.String())
	default:
		log.Info("Cache miss: the copy is downloaded or verified", "file", cfg.Path, "name", name.String(), "reason", entry.MissReason())
	}
	go gcLoop(ctx, log, cache, f.retention)
	hit := entry.Hit()
	return runSession(ctx, c, cfg, func() error {
		if err := entry.Finish(name, wantSHA); err != nil {
			return err
		}
		if !hit {
			log.Info("Cache copy verified, recorded and linked", "name", name.String(), "file", cfg.Path)
		}
		return nil
	})
}

// gcLoop runs the node cache's clean-up now and every nodecache.GCInterval until ctx ends.
func gcLoop(ctx context.Context, log *slog.Logger, cache *nodecache.Cache, retention time.Duration) {
	t := time.NewTicker(nodecache.GCInterval)
	defer t.Stop()
	for {
		runGC(log, cache, retention)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func runGC(log *slog.Logger, cache *nodecache.Cache, retention time.Duration) {
	res, err := cache.GC(time.Now(), retention)
	if err != nil {
		log.Warn("Node cache clean-up failed", "err", err)
	}
	if len(res.Removed) > 0 {
		log.Info("Node cache clean-up removed unreferenced copies", "removed", res.Removed, "kept", res.Kept)
	}
}

// cacheFailure names a full disk under the node cache clearly: the node's peer fails with it
// (and Kubernetes shows it as the pod's termination message).
func cacheFailure(err error) error {
	if errors.Is(err, peer.ErrDiskFull) || errors.Is(err, nodecache.ErrDiskFull) {
		return fmt.Errorf("node cache: disk full: %w", err)
	}
	return err
}

// runCachePrepare creates the node cache's directories and gives them to the peers' uid.
func runCachePrepare(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("cache-prepare", flag.ContinueOnError)
	root := fs.String("cache-root", "", "node cache root to prepare (absolute, required)")
	uid := fs.Int("uid", -1, "user id (and group id) the node's peers run as (required)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *uid < 0 {
		return usagef("cache-prepare: --uid is required")
	}
	if err := nodecache.CheckRoot(*root); err != nil {
		return usagef("cache-prepare: --cache-root: %v", err)
	}
	return cacheFailure(nodecache.Prepare(*root, *uid))
}

// runCacheRelease removes one Swarm's stable name from the node cache.
func runCacheRelease(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("cache-release", flag.ContinueOnError)
	root := fs.String("cache-root", "", "node cache root (absolute, required)")
	nameFlag := fs.String("cache-name", "", "the name to remove: NAMESPACE/SWARM (required)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := nodecache.CheckRoot(*root); err != nil {
		return usagef("cache-release: --cache-root: %v", err)
	}
	name, err := nodecache.ParseName(*nameFlag)
	if err != nil {
		return usagef("cache-release: --cache-name: %v", err)
	}
	cache, err := nodecache.Open(*root)
	if err != nil {
		return err
	}
	if err := cache.Release(name); err != nil {
		return err
	}
	slog.Info("Node cache name released", "name", name.String(), "root", *root)
	return nil
}

// runCacheGC removes the node cache's copies no name links to, unused for --cache-retention.
func runCacheGC(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("cache-gc", flag.ContinueOnError)
	root := fs.String("cache-root", "", "node cache root (absolute, required)")
	retention := fs.Duration("cache-retention", nodecache.DefaultRetention, "how long a copy no name links to stays before it is removed")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := nodecache.CheckRoot(*root); err != nil {
		return usagef("cache-gc: --cache-root: %v", err)
	}
	if *retention < 0 {
		return usagef("cache-gc: --cache-retention must not be negative")
	}
	cache, err := nodecache.Open(*root)
	if err != nil {
		return err
	}
	res, err := cache.GC(time.Now(), *retention)
	slog.Info("Node cache clean-up", "removed", res.Removed, "kept", res.Kept)
	return err
}

// terminationLog is where Kubernetes reads a container's termination message.
var terminationLog = "/dev/termination-log"

// maxTerminationMessage is Kubernetes' limit of a termination message.
const maxTerminationMessage = 4096

// writeTerminationMessage writes msg to terminationLog when that file exists (in a pod).
func writeTerminationMessage(msg string) {
	f, err := os.OpenFile(terminationLog, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	if len(msg) > maxTerminationMessage {
		msg = msg[:maxTerminationMessage]
	}
	_, _ = f.WriteString(strings.ToValidUTF8(msg, "?"))
}
