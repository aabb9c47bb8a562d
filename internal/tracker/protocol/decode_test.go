package protocol

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

// What the tracker writes, the client reads back: compact IPv4 in "peers", IPv6 in "peers6",
// or a list of dictionaries.
func TestAnnounceRoundTrip(t *testing.T) {
	v4, v6 := netip.MustParseAddrPort("10.0.0.2:6881"), netip.MustParseAddrPort("[2001:db8::3]:6883")
	compact := AnnounceDict{Complete: 1, Incomplete: 2, Interval: 30, MinInterval: 15,
		Peers: AppendCompact(nil, v4), Peers6: AppendCompact(nil, v6)}
	dicts := AnnounceDict{Interval: 30, Peers: []PeerDict{{IP: "10.0.0.2", Port: 6881}, {IP: "2001:db8::3", PeerID: []byte("x"), Port: 6883}}}
	for name, dict := range map[string]AnnounceDict{"compact": compact, "dictionaries": dicts} {
		body, err := bencode.Marshal(dict)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeAnnounce(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := []netip.AddrPort{v4, v6}; !slices.Equal(got.Peers, want) || got.Interval.Seconds() != 30 {
			t.Errorf("%s: %+v, want peers %v every 30 s", name, got, want)
		}
	}
}

// An attacker's answers: each is an error, never a panic nor a made-up peer.
func TestDecodeAnnounceRefusesMalformedAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"not bencode":          "<html>",
		"truncated":            "d8:intervali30e5:peers6:ab",
		"compact not 6s":       "d8:intervali30e5:peers7:abcdefge",
		"peers6 not 18s":       "d8:intervali30e5:peers0:6:peers617:" + strings.Repeat("a", 17) + "e",
		"peer ip not an ip":    "d8:intervali30e5:peersld2:ip7:my-host4:porti1eeee",
		"peer port 0":          "d8:intervali30e5:peersld2:ip8:10.0.0.14:porti0eeee",
		"peer port too large":  "d8:intervali30e5:peersld2:ip8:10.0.0.14:porti65536eeee",
		"peer list of strings": "d8:intervali30e5:peersl3:abcee",
		"peers an integer":     "d8:intervali30e5:peersi7ee",
	} {
		if got, err := DecodeAnnounce([]byte(body)); err == nil {
			t.Errorf("%s: accepted as %+v", name, got)
		}
	}
	_, err := DecodeAnnounce([]byte("d14:failure reason4:nopee"))
	if f, ok := errors.AsType[*FailureError](err); !ok || f.Reason != "nope" {
		t.Errorf("failure reason: %v, want a *FailureError \"nope\"", err)
	}
}

// FuzzDecodeAnnounce feeds arbitrary answers: the decoder returns peers or an error, and never
// panics.
func FuzzDecodeAnnounce(f *testing.F) {
	f.Add([]byte("d8:intervali30e5:peers6:\x0a\x00\x00\x02\x1a\xe1e"))
	f.Add([]byte("d8:intervali30e5:peersld2:ip8:10.0.0.14:porti1eeee"))
	f.Add([]byte("d14:failure reason4:nopee"))
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := DecodeAnnounce(body)
		if err != nil && len(resp.Peers) > 0 {
			t.Fatalf("an error with %d peers", len(resp.Peers))
		}
	})
}
