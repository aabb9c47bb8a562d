package peer

import (
	"context"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/wire"
)

// twinHash is the info-hash of meta's v1 twin.
func twinHash(t testing.TB, meta *metainfo.MetaInfo) [20]byte {
	t.Helper()
	_, h, err := meta.EncodeV1Twin()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// twinSeeder runs a seeder of a fresh file that serves the v1 twin too (unless noTwin).
func twinSeeder(t *testing.T, size int64, noTwin ...bool) (string, *metainfo.MetaInfo, *running) {
	t.Helper()
	src, meta := testTorrent(t, size, 32<<10)
	cfg := testConfig(t, meta, src)
	cfg.Seed, cfg.Trusted, cfg.V1Twin = true, true, len(noTwin) == 0
	return src, meta, startSession(t, cfg)
}

// dialTwin connects to s as a v1-only client: the twin's info-hash and the fast bit. It
// returns the session's answer.
func dialTwin(t *testing.T, s *Session, twin [20]byte) (*rawPeer, wire.Handshake) {
	t.Helper()
	p := dialRaw(t, s, false, false)
	h := wire.Handshake{InfoHash: twin, PeerID: NewPeerID()}
	h.SetFast()
	h.SetExtended() // aria2 and Transmission set it; the twin does not talk BEP 10
	if err := wire.WriteHandshake(p.nc, h); err != nil {
		t.Fatal(err)
	}
	_ = p.nc.SetReadDeadline(time.Now().Add(testTimeout))
	got, err := wire.ReadHandshake(p.nc)
	if err != nil {
		t.Fatalf("handshake under the twin: %v", err)
	}
	return p, got
}

// A v1-only client that names the twin's info-hash is answered under it, with the fast bit and
// neither the BEP 52 bit nor the extension protocol's, and gets the pieces' announcement.
func TestTwinAnswersV1Clients(t *testing.T) {
	_, meta, seeder := twinSeeder(t, 256<<10)
	p, got := dialTwin(t, seeder.Session, twinHash(t, meta))
	if got.InfoHash != twinHash(t, meta) || !got.Fast() || got.Hashes() || got.Extended() {
		t.Fatalf("answer %x fast %v hashes %v extended %v: want the twin's hash and the fast bit only",
			got.InfoHash, got.Fast(), got.Hashes(), got.Extended())
	}
	p.waitMessage(wire.HaveAll)
}

// Without Config.V1Twin the twin's info-hash is another torrent's.
func TestNoTwinWithoutV1Twin(t *testing.T) {
	_, meta, seeder := twinSeeder(t, 256<<10, true)
	p := dialRaw(t, seeder.Session, false, false)
	if err := wire.WriteHandshake(p.nc, wire.Handshake{InfoHash: twinHash(t, meta), PeerID: NewPeerID()}); err != nil {
		t.Fatal(err)
	}
	p.expectClosed()
}

// A twin connection is v1-only: a BEP 52 message on it is a protocol error, and so is a late
// bitfield that is malformed.
func TestTwinConnectionRefusesHashMessagesAndBadLateBitfields(t *testing.T) {
	_, meta, seeder := twinSeeder(t, 256<<10)
	r := wire.HashRange{Length: 2}
	for name, msgs := range map[string][]wire.Message{
		"hash request":           {{ID: wire.HaveNone}, r.Message(wire.HashRequest)},
		"hash reject":            {{ID: wire.HaveNone}, r.Message(wire.HashReject)},
		"late bitfield too long": {{ID: wire.HaveNone}, {ID: wire.BitfieldMsg, Payload: make([]byte, 3)}},
	} {
		t.Run(name, func(t *testing.T) {
			p, _ := dialTwin(t, seeder.Session, twinHash(t, meta))
			p.send(msgs...)
			p.expectClosed()
		})
	}
}

// aria2 1.36 sends its bitfield again after its first message; on a twin connection that is
// taken as its have messages: a late have all makes a leecher interested.
func TestTwinLateBitfieldIsHaves(t *testing.T) {
	_, meta := testTorrent(t, 256<<10, 32<<10)
	cfg := leecherConfig(t, meta, t.TempDir(), "")
	cfg.V1Twin = true
	leecher := startSession(t, cfg)
	p, _ := dialTwin(t, leecher.Session, twinHash(t, meta))
	p.send(wire.Message{ID: wire.HaveNone}, wire.Message{ID: wire.HaveAll})
	p.waitMessage(wire.Interested)
}

// Two MiniBit peers can trade over the twin too: a leecher that learnt the seeder only from
// the twin's swarm dials it under the twin, and the file verifies with SHA-256 as ever.
func TestTwinDownloadBetweenSessions(t *testing.T) {
	src, meta, seeder := twinSeeder(t, 1<<20)
	cfg := leecherConfig(t, meta, t.TempDir(), "", seeder.Addr())
	cfg.V1Twin = true
	logger, twinConns := countTwinConnections(t)
	cfg.Logger = logger
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.twin.learn([]netip.AddrPort{seeder.Addr()}, true)
	leecher := runSession(t, s)
	waitDone(t, leecher)
	assertSameFile(t, src, leecher.cfg.Path)
	if twinConns.Load() == 0 {
		t.Fatal("the leecher never connected under the twin")
	}
}

// The addresses only the twin's swarm lists are dialled under the twin; one the hybrid's swarm
// lists too is a MiniBit peer, dialled under the hybrid's info-hash.
func TestTwinDialsOnlyTwinOnlyAddresses(t *testing.T) {
	tw := &twin{addrs: make(map[netip.AddrPort]bool)}
	a, b := netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2")
	mapped := netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
	tw.learn([]netip.AddrPort{a, b}, true)
	tw.learn([]netip.AddrPort{b}, false)
	tw.learn([]netip.AddrPort{b}, true)
	if !tw.dials(a) || !tw.dials(mapped) || tw.dials(b) {
		t.Fatalf("dials a %v (mapped %v) b %v: want a only", tw.dials(a), tw.dials(mapped), tw.dials(b))
	}
	many := make([]netip.AddrPort, maxTwinAddrs)
	for i := range many {
		many[i] = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(i+1))
	}
	tw.learn(many, true)
	if len(tw.addrs) > maxTwinAddrs {
		t.Fatalf("%d addresses remembered, more than %d", len(tw.addrs), maxTwinAddrs)
	}
	var none *twin
	none.learn(many, true)
	if none.dials(a) || none.is([20]byte{}) {
		t.Fatal("a session without a twin dials or accepts under one")
	}
}

// countTwinConnections is a debug logger (discarding its records) that counts the connections
// made under the twin.
func countTwinConnections(t testing.TB) (*slog.Logger, *atomic.Int64) {
	t.Helper()
	n := new(atomic.Int64)
	h := &twinCounter{n: n, next: testLogger(t).Handler()}
	return slog.New(h), n
}

type twinCounter struct {
	n    *atomic.Int64
	next slog.Handler
}

func (h *twinCounter) Enabled(context.Context, slog.Level) bool { return true }

func (h *twinCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "Peer connected" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "v1Twin" && a.Value.Bool() {
				h.n.Add(1)
			}
			return true
		})
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *twinCounter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &twinCounter{n: h.n, next: h.next.WithAttrs(attrs)}
}

func (h *twinCounter) WithGroup(name string) slog.Handler {
	return &twinCounter{n: h.n, next: h.next.WithGroup(name)}
}
