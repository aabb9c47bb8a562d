package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/tracker"
)

func TestFlagDefaultsAreTheNotesNumbers(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.listen != ":8080" || o.cfg.Interval != 30*time.Second || o.cfg.PeerTTL != 5*time.Minute ||
		o.cfg.DefaultNumWant != 5 || o.cfg.MaxNumWant != 50 || o.logFormat != "text" || o.logLevel != slog.LevelInfo {
		t.Fatalf("defaults %+v", o)
	}
	if o.cfg.MaxSwarms != tracker.DefaultMaxSwarms || o.cfg.MaxPeersPerSwarm != tracker.DefaultMaxPeersPerSwarm {
		t.Fatalf("bounds %+v", o.cfg)
	}
}

func TestFlagsAreParsedAndChecked(t *testing.T) {
	o, err := parseFlags([]string{"--listen", "127.0.0.1:0", "--interval", "1s", "--peer-ttl", "10s",
		"--numwant", "8", "--log-format", "json", "--log-level", "debug"})
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.Interval != time.Second || o.cfg.PeerTTL != 10*time.Second || o.cfg.DefaultNumWant != 8 ||
		o.logFormat != "json" || o.logLevel != slog.LevelDebug {
		t.Fatalf("parsed %+v", o)
	}
	for _, args := range [][]string{
		{"--log-format", "xml"},
		{"--log-level", "loud"},
		{"--interval", "100ms"},
		{"--interval", "1m", "--peer-ttl", "30s"},
		{"extra"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%s) accepted bad flags", strings.Join(args, " "))
		}
	}
}
