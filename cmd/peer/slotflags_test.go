package main

import (
	"flag"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/minibit-io/minibit/internal/peer"
)

// parseSlots parses args as the slot flags and returns the config they make, or the check's error.
func parseSlots(t *testing.T, args ...string) (peer.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f slotFlags
	f.add(fs, peer.DefaultConfig())
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	cfg := peer.DefaultConfig()
	if err := f.check(); err != nil {
		return cfg, err
	}
	f.apply(&cfg)
	return cfg, nil
}

func TestSlotFlagsDefaultToTheSessionDefaults(t *testing.T) {
	cfg, err := parseSlots(t)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(peer.DefaultConfig(), cfg, cmpopts.IgnoreUnexported(peer.Config{})); diff != "" {
		t.Fatalf("config of flags without values mismatch (-want +got):\n%s", diff)
	}
}

func TestSlotFlagsZeroOutgoingSlotsKeepsNone(t *testing.T) {
	cfg, err := parseSlots(t, "--outgoing-slots=0", "--max-peers-per-ip=50")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OutgoingSlots >= 0 || cfg.MaxPeersPerIP != 50 {
		t.Fatalf("--outgoing-slots=0 gives OutgoingSlots %d (want negative: none), share %d", cfg.OutgoingSlots, cfg.MaxPeersPerIP)
	}
}

func TestSlotFlagsRefuseNonsense(t *testing.T) {
	for _, args := range [][]string{
		{"--max-peers-per-ip=0"}, {"--max-half-open=0"}, {"--max-half-open-per-ip=-1"},
		{"--outgoing-slots=-1"}, {"--handshake-timeout=0s"}, {"--evict-idle-after=0s"},
	} {
		if _, err := parseSlots(t, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
