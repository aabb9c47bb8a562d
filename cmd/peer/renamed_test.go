package main

import (
	"flag"
	"io"
	"log/slog"
	"testing"

	"github.com/minibit-io/minibit/internal/peer"
)

// commonConfig is the config the common flags make of args (with a torrent, so that the
// check passes), or the parse's or the check's error.
func commonConfig(args ...string) (peer.Config, error) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := addCommon(fs)
	err := fs.Parse(append([]string{"--torrent=x.torrent"}, args...))
	if err == nil {
		err = c.check()
	}
	if err != nil {
		return peer.Config{}, err
	}
	return c.config(slog.New(slog.DiscardHandler)), nil
}

// --choker and --picker, the names before the vocabulary of issue 12, set what --choke-strategy
// and --piece-strategy set.
func TestRenamedStrategyFlagsKeepTheirOldNames(t *testing.T) {
	for _, args := range [][]string{
		{"--choke-strategy=rarity", "--piece-strategy=random"},
		{"--choker=rarity", "--picker=random"},
	} {
		cfg, err := commonConfig(args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if cfg.Choker.Strategy != peer.Rarity || cfg.PieceStrategy != peer.RandomPiece {
			t.Errorf("%v: choke strategy %q, piece strategy %q; want rarity, random", args, cfg.Choker.Strategy, cfg.PieceStrategy)
		}
	}
	cfg, err := commonConfig()
	if err != nil {
		t.Fatal(err)
	}
	d := peer.DefaultConfig()
	if cfg.Choker.Strategy != d.Choker.Strategy || cfg.PieceStrategy != peer.RarestFirst {
		t.Errorf("defaults: choke strategy %q, piece strategy %q", cfg.Choker.Strategy, cfg.PieceStrategy)
	}
	for _, args := range [][]string{{"--choke-strategy=fastest"}, {"--piece-strategy=sequential"}} {
		if _, err := commonConfig(args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
