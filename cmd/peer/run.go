package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/minibit-io/minibit/internal/backoff"
	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/metrics"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/protocol"
)

// parse parses args into fs, refusing leftovers unless positional is the count expected.
func parse(fs *flag.FlagSet, args []string, positional int) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != positional {
		return usagef("%s: want %d argument(s), got %v", fs.Name(), positional, fs.Args())
	}
	return nil
}

// runGenerate writes a deterministic file.
func runGenerate(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	size := sizeFlag(64 << 20)
	fs.Var(&size, "size", "file size, such as 64MiB")
	seed := fs.Uint64("seed", 1, "content seed: the same seed and size give the same bytes")
	out := fs.String("out", "", "path of the file to write (required)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *out == "" || size <= 0 {
		return usagef("generate: --out and a positive --size are required")
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	return generate.WriteFile(*out, *seed, int64(size))
}

// runCreate hashes a file into a .torrent.
func runCreate(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	pieceSize := sizeFlag(metainfo.DefaultPieceLength)
	fs.Var(&pieceSize, "piece-size", "piece (the note's block) size, a power of two")
	announce := fs.String("announce", "", "tracker announce URL written in the torrent")
	name := fs.String("name", "", "file name in the torrent (default: the file's base name)")
	out := fs.String("out", "", "path of the .torrent to write (default: FILE.torrent)")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	path := fs.Arg(0)
	meta, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: int64(pieceSize), Name: *name, Announce: *announce})
	if err != nil {
		return err
	}
	if *out == "" {
		*out = path + ".torrent"
	}
	return writeTorrent(meta, *out)
}

func writeTorrent(meta *metainfo.MetaInfo, path string) error {
	data, err := meta.Encode()
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// runSeed serves a file: from a .torrent, or creating the torrent and publishing it under
// --swarm. The file may first be generated (--generate-size) or downloaded (--url).
func runSeed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	c := addCommon(fs)
	file := fs.String("file", "", "the file or directory to seed (required)")
	var origin originFlags
	origin.add(fs)
	secretFile := fs.String("publish-secret-file", "", "file holding the tracker's publish token, sent with the torrent upload of --swarm")
	superSeed := fs.Bool("super-seed", false, "offer pieces one by one, the least offered first (BEP 16 super-seeding)")
	twin := addTwinFlags(fs) // twin.go
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	if *file == "" {
		return usagef("seed: --file is required")
	}
	if _, _, err := origin.spec(); err != nil {
		return err
	}
	token, err := readPublishToken(*secretFile)
	if err != nil {
		return err
	}
	log := c.logger()
	if err := origin.prepare(ctx, log, *file, c.timeout); err != nil {
		return err
	}
	opts, err := origin.createOptions(*file)
	if err != nil {
		return err
	}
	meta, trusted, err := seedTorrent(ctx, log, c, *file, opts, token)
	if err != nil {
		return err
	}
	cfg := c.config(log)
	cfg.Torrent, cfg.Path, cfg.Seed, cfg.Trusted = meta, *file, true, trusted
	cfg.SuperSeed = *superSeed
	if err := twin.seed(ctx, log, c, &cfg, token); err != nil {
		return err
	}
	return runSession(ctx, c, cfg, nil)
}

// seedTorrent returns the torrent to seed and whether the file needs no verification: loaded
// from --torrent (verified), or created from the file and published under --swarm (trusted)
// with token (the tracker's publish secret, empty for none). Either must be the --info-hash.
func seedTorrent(ctx context.Context, log *slog.Logger, c *common, file string, opts metainfo.CreateOptions, token string) (*metainfo.MetaInfo, bool, error) {
	if c.torrent != "" {
		meta, err := loadTorrent(c)
		return meta, false, err
	}
	start := time.Now()
	opts.Name, opts.Announce = filepath.Base(file), c.tracker+"/announce"
	opts.Progress = hashProgress(log, start, hashProgressEvery)
	meta, err := metainfo.Create(file, opts)
	if err != nil {
		return nil, false, err
	}
	log.Info("Torrent created", "pieces", meta.NumPieces(), "pieceSize", meta.Info.PieceLength,
		"files", len(meta.Info.Files), "bytes", meta.PayloadBytes(), "seconds", time.Since(start).Seconds(),
		"infoHash", fmt.Sprintf("%x", meta.InfoHashV1()))
	if err := c.pin.verify(meta); err != nil {
		return nil, false, fmt.Errorf("seed %s: %w", file, err)
	}
	data, err := meta.Encode()
	if err != nil {
		return nil, false, err
	}
	tc := trackerClient(c)
	tc.PublishToken = token
	// Until the tracker answers (a Service whose DNS name is not ready yet, a tracker pod being
	// replaced), keep trying: a seeder that gave up would lose the swarm its only source.
	attempt := 0
	err = backoff.Retry(ctx, untilContextEnds, func(ctx context.Context) error {
		attempt++
		err := tc.PublishTorrent(ctx, c.swarm, data)
		if errors.Is(err, client.ErrConflict) || errors.Is(err, client.ErrUnauthorized) {
			return backoff.Permanent(err)
		}
		if err != nil {
			log.Warn("Could not publish the torrent yet", "swarm", c.swarm, "attempt", attempt, "err", err)
		}
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("publish the torrent as %q: %w", c.swarm, err)
	}
	log.Info("Torrent published", "swarm", c.swarm, "tracker", c.tracker)
	go tc.KeepPublished(ctx, c.swarm, data, protocol.DefaultInterval, log)
	return meta, true, nil
}

func trackerClient(c *common) *client.Client {
	cl := client.NewClient(c.tracker)
	cl.HTTP.Timeout = c.timeout
	return cl
}

// runGet downloads the swarm's file into --dir.
func runGet(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	c := addCommon(fs)
	dir := fs.String("dir", "", "directory to download into (required unless --cache-root)")
	exit := fs.Bool("exit-on-complete", false, "exit (code 0) once the verified file is in place instead of seeding")
	fileSHA := fs.String("sha256", "", "SHA-256 (64 hex digits) the finished file must have before this peer calls itself complete")
	metadataTimeout := fs.Duration("metadata-timeout", DefaultMetadataTimeout, "how long to fetch the torrent from the swarm's peers (BEP 9) before the tracker's copy; 0 asks the tracker at once")
	twin := addTwinFlags(fs) // twin.go
	var cf cacheFlags
	cf.add(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	cacheName, err := cf.check(*dir)
	if err != nil {
		return err
	}
	wantSHA, err := parseSHA256("sha256", *fileSHA)
	if err != nil {
		return err
	}
	log := c.logger()
	meta, err := torrentFromPeers(ctx, log, c, *metadataTimeout) // the peers first (metadata.go)
	if meta == nil && err == nil {
		meta, err = getTorrent(ctx, log, c)
	}
	if err != nil {
		return err
	}
	if wantSHA != "" && meta.MultiFile() {
		return usagef("get: --sha256 is one file's SHA-256, and swarm %q carries a directory of %d files (every piece of every file is verified against the torrent)",
			c.swarm, len(meta.Info.Files))
	}
	cfg := c.config(log)
	cfg.Torrent, cfg.ExitOnComplete, cfg.WantSHA256 = meta, *exit, wantSHA
	if err := twin.get(log, &cfg); err != nil {
		return err
	}
	if cf.root != "" {
		return cacheFailure(runCachedSession(ctx, c, cfg, cf, cacheName))
	}
	cfg.Path = filepath.Join(*dir, meta.Info.Name)
	return runSession(ctx, c, cfg, nil)
}

// untilContextEnds is the note's backoff (1 s, 2 s, 4 s ...) capped at 30 s, retried until the
// context ends: for publishing a swarm's .torrent and waiting for it to be published.
var untilContextEnds = backoff.Policy{Initial: time.Second, Max: 30 * time.Second, Multiplier: 2, Attempts: 1 << 30, Jitter: 0.2}

// loadTorrent loads --torrent (the tracker defaults to its announce URL) and checks it against
// --info-hash.
func loadTorrent(c *common) (*metainfo.MetaInfo, error) {
	meta, err := metainfo.Load(c.torrent)
	if err != nil {
		return nil, err
	}
	if err := c.pin.verify(meta); err != nil {
		return nil, fmt.Errorf("%s: %w", c.torrent, err)
	}
	if c.tracker == "" {
		c.tracker = meta.Announce
	}
	return meta, nil
}

// getTorrent loads --torrent, or fetches the swarm's .torrent from the tracker, retrying until
// it is published; either must be the --info-hash.
func getTorrent(ctx context.Context, log *slog.Logger, c *common) (*metainfo.MetaInfo, error) {
	if c.torrent != "" {
		return loadTorrent(c)
	}
	tc := trackerClient(c)
	var meta *metainfo.MetaInfo
	attempt := 0
	err := backoff.Retry(ctx, untilContextEnds, func(ctx context.Context) error {
		attempt++
		data, err := tc.FetchTorrent(ctx, c.swarm)
		if err != nil {
			log.Info("Waiting for the swarm's torrent", "swarm", c.swarm, "attempt", attempt, "err", err)
			return err
		}
		if meta, err = metainfo.Parse(data); err == nil {
			err = c.pin.verify(meta)
		}
		return backoff.Permanent(err)
	})
	if err != nil {
		return nil, fmt.Errorf("fetch the torrent of swarm %q: %w", c.swarm, err)
	}
	return meta, nil
}

// runSession runs the peer with its metrics server until ctx ends (or the download completes
// with --exit-on-complete). onDone, when not nil, runs once the verified file is in place,
// before the session calls itself done (peer.Config.BeforeDone); its error stops the session
// and is returned.
func runSession(ctx context.Context, c *common, cfg peer.Config, onDone func() error) error {
	cfg.BeforeDone = onDone
	s, err := peer.New(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	metricsDone := make(chan error, 1)
	if c.metricsAddr != "" {
		registry := prometheus.NewRegistry()
		registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
			metrics.NewPeerCollector(c.withTorrentSource(s.MetricsSnapshot), prometheus.Labels{"swarm": cfg.Torrent.Info.Name}))
		go func() { metricsDone <- metrics.Serve(ctx, c.metricsAddr, registry) }()
	} else {
		metricsDone <- nil
	}
	runErr := s.Run(ctx)
	cancel()
	if err := <-metricsDone; err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return runErr
	}
	if cfg.ExitOnComplete {
		select {
		case <-s.Done():
		default:
			return errors.New("interrupted before the download completed")
		}
	}
	return nil
}
