package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/minibit-io/minibit/internal/flagalias"
	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/peer"
)

// sizeFlag is a byte count flag that accepts "4MiB" style sizes.
type sizeFlag int64

func (s *sizeFlag) String() string { return fmt.Sprint(int64(*s)) }

func (s *sizeFlag) Set(v string) error {
	n, err := generate.ParseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

// common are the flags of seed and get.
type common struct {
	listen, name, metricsAddr     string
	tracker, swarm, torrent       string
	timeout, chokeInterval        time.Duration
	numWant, maxPeers             int
	unchokeSlots, optimisticSlots int
	chokeStrategy, pieceStrategy  string
	uploadRate, downloadRate      sizeFlag
	logFormat                     string
	logLevel                      slog.Level
	pin                           pinFlags // --info-hash (trust.go)
	slots                         slotFlags
	renamed                       flagalias.Set // old names of renamed flags
	torrentSource                 string        // where get found its torrent (metadata.go)
}

func addCommon(fs *flag.FlagSet) *common {
	c := &common{}
	d := peer.DefaultConfig()
	fs.StringVar(&c.listen, "listen", peer.DefaultListenAddr, "address to accept peer connections on")
	fs.StringVar(&c.name, "name", "", "this peer's name, sent to the tracker (a pod name); empty means the host name")
	fs.StringVar(&c.metricsAddr, "metrics-addr", ":9090", "address of /metrics and /healthz; empty turns them off")
	fs.StringVar(&c.tracker, "tracker", "", "tracker base URL, such as http://tracker:8080")
	fs.StringVar(&c.swarm, "swarm", "", "swarm name: the .torrent is published (seed) or fetched (get) under it")
	fs.StringVar(&c.torrent, "torrent", "", "path of the .torrent file (instead of --swarm)")
	fs.DurationVar(&c.timeout, "timeout", d.Timeout, "timeout of every dial, write and tracker request (the note's 10 s)")
	fs.IntVar(&c.numWant, "numwant", d.NumWant, "peers to ask the tracker for (the note's 5)")
	fs.IntVar(&c.maxPeers, "max-peers", d.MaxPeers, "most connections at once")
	fs.IntVar(&c.unchokeSlots, "unchoke-slots", d.Choker.UnchokeSlots, "peers uploaded to at once, chosen by --choke-strategy (the note's 4)")
	fs.IntVar(&c.optimisticSlots, "optimistic-slots", d.Choker.OptimisticSlots, "more peers uploaded to, picked at random (the note's 1)")
	fs.DurationVar(&c.chokeInterval, "choke-interval", d.ChokeInterval, "how often the unchoke and optimistic slots are given again (the note's 10 s)")
	fs.StringVar(&c.chokeStrategy, "choke-strategy", string(d.Choker.Strategy), "who gets the unchoke slots: tit-for-tat (the peers uploading most to this one) or rarity (the peers holding the rarest pieces)")
	fs.StringVar(&c.pieceStrategy, "piece-strategy", string(peer.RarestFirst), "which missing piece is fetched first: rarest (rarest first) or random")
	c.renamed.Add(fs, "choker", "choke-strategy")
	c.renamed.Add(fs, "picker", "piece-strategy")
	fs.Var(&c.uploadRate, "upload-rate", "upload cap in bytes/s, such as 4MiB; 0 is unlimited")
	fs.Var(&c.downloadRate, "download-rate", "download cap in bytes/s, such as 4MiB; 0 is unlimited")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error")
	c.pin.add(fs)
	c.slots.add(fs, d)
	return c
}

// check validates the common flags after parsing.
func (c *common) check() error {
	if c.logFormat != "text" && c.logFormat != "json" {
		return usagef("--log-format must be text or json, got %q", c.logFormat)
	}
	if err := c.pin.check(); err != nil {
		return err
	}
	if _, err := peer.ParseChokeStrategy(c.chokeStrategy); err != nil {
		return usagef("--choke-strategy: %v", err)
	}
	if _, err := peer.ParsePieceStrategy(c.pieceStrategy); err != nil {
		return usagef("--piece-strategy: %v", err)
	}
	if c.torrent == "" && (c.tracker == "" || c.swarm == "") {
		return usagef("give --torrent, or --tracker and --swarm")
	}
	if c.timeout <= 0 || c.chokeInterval <= 0 || c.numWant < 1 || c.maxPeers < 1 {
		return usagef("--timeout, --choke-interval, --numwant and --max-peers must be positive")
	}
	if c.unchokeSlots < 0 || c.optimisticSlots < 0 {
		return usagef("--unchoke-slots and --optimistic-slots must not be negative")
	}
	if err := c.slots.check(); err != nil {
		return err
	}
	return nil
}

// logger builds the logger the flags ask for and makes it the default.
func (c *common) logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.logLevel}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.logFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	log := slog.New(h)
	slog.SetDefault(log)
	c.renamed.Warn(log)
	return log
}

// config is the session configuration of the flags (without torrent and path).
func (c *common) config(log *slog.Logger) peer.Config {
	cfg := peer.DefaultConfig()
	cfg.ListenAddr = c.listen
	cfg.Name = c.name
	if cfg.Name == "" {
		cfg.Name, _ = os.Hostname()
	}
	cfg.TrackerURL = c.tracker
	cfg.Timeout = c.timeout
	cfg.NumWant = c.numWant
	cfg.MaxPeers = c.maxPeers
	c.slots.apply(&cfg)
	cfg.Choker.Strategy = peer.ChokeStrategy(c.chokeStrategy)
	cfg.Choker.UnchokeSlots = c.unchokeSlots
	cfg.Choker.OptimisticSlots = c.optimisticSlots
	cfg.ChokeInterval = c.chokeInterval
	cfg.PieceStrategy = peer.PieceStrategy(c.pieceStrategy)
	cfg.UploadRate = int64(c.uploadRate)
	cfg.DownloadRate = int64(c.downloadRate)
	cfg.Progress = os.Stderr
	cfg.Logger = log
	return cfg
}
