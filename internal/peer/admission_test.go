package peer

import (
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/metrics"
	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/wire"
)

// ipA is a loopback address other than the tests' 127.0.0.1: a flooder of its own.
var ipA = netip.MustParseAddr("127.0.0.2")

func TestRefusalNamesAreTheMetricsReasons(t *testing.T) {
	var names []string
	for r := core.NotRefused + 1; r < core.NumRefusals; r++ {
		names = append(names, r.String())
	}
	if !slices.Equal(names, metrics.RefusalReasons) {
		t.Fatalf("refusals %v, metrics.RefusalReasons %v", names, metrics.RefusalReasons)
	}
}

// rawDial opens a TCP connection to addr from the loopback address from (127.0.0.x).
func rawDial(t *testing.T, from netip.Addr, addr netip.AddrPort) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(from, 0))}
	nc, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return nc
}

// A session refuses an address over its half-open share at once and closes a connection that
// sends no handshake within the handshake timeout, counting both.
func TestSessionBoundsHalfOpenConnections(t *testing.T) {
	src, meta := testTorrent(t, 256<<10, 32<<10)
	cfg := testConfig(t, meta, src)
	cfg.Seed, cfg.Trusted = true, true
	cfg.MaxHalfOpenPerIP = 2
	cfg.HandshakeTimeout = 300 * time.Millisecond
	s := startSession(t, cfg)
	var held []net.Conn
	for range 5 {
		held = append(held, rawDial(t, ipA, s.Addr()))
	}
	waitFor(t, "3 half-open refusals", func() bool { return s.Stats().Refused[metrics.RefusedHalfOpenPerIP] == 3 })
	waitFor(t, "2 handshake timeouts", func() bool { return s.Stats().Refused[metrics.RefusedHandshakeTimeout] == 2 })
	if st := s.Stats(); st.HalfOpen != 0 {
		t.Fatalf("%d half-open after the timeouts, want 0", st.HalfOpen)
	}
	for i, nc := range held { // every connection was closed by the session
		_ = nc.SetReadDeadline(time.Now().Add(testTimeout))
		if _, err := nc.Read(make([]byte, 1)); err == nil {
			t.Errorf("connection %d: read data, want it closed", i)
		}
	}
	_ = s.stop(t)
	assertSlotsFree(t, s.Session)
}

// Two peers that dial each other at the same moment: a second connection with a connected id is
// refused and never displaces the first, so when each side registers the other's connection
// first, both refuse their own dial and both connections close; the dialers redial after a
// short random wait and the pair ends connected. Whichever way each pair's race goes (one
// connection kept at once, or both closed and redialled), every leecher completes and every
// slot is given back; the log counts the outcomes (both showed here, 2 of 12 closed both), which
// the test does not assert, since the race decides them.
func TestSimultaneousDialsEndConnected(t *testing.T) {
	const pairs = 12
	src, meta := testTorrent(t, 256<<10, 32<<10)
	keptOne := 0
	for i := range pairs {
		seedCfg := testConfig(t, meta, src)
		seedCfg.Seed, seedCfg.Trusted = true, true
		seeder, err := New(seedCfg)
		if err != nil {
			t.Fatal(err)
		}
		leecher, err := New(leecherConfig(t, meta, t.TempDir(), ""))
		if err != nil {
			t.Fatal(err)
		}
		seeder.cfg.Peers = []netip.AddrPort{leecher.Addr()}
		leecher.cfg.Peers = []netip.AddrPort{seeder.Addr()}
		rs, rl := runSession(t, seeder), runSession(t, leecher)
		waitDone(t, rl)
		// A refused incoming connection means one side had registered its own dial: it was kept.
		if seeder.Stats().Refused[metrics.RefusedDuplicateID]+leecher.Stats().Refused[metrics.RefusedDuplicateID] > 0 {
			keptOne++
		}
		_ = rl.stop(t)
		_ = rs.stop(t)
		assertSlotsFree(t, seeder)
		assertSlotsFree(t, leecher)
		t.Logf("pair %d: leecher done in %v", i, leecher.Stats().TimeToComplete)
	}
	t.Logf("%d of %d pairs kept one connection at once; the others closed both and redialled", keptOne, pairs)
}

// assertSlotsFree fails unless a stopped session gave back every slot it took.
func assertSlotsFree(t *testing.T, s *Session) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if in, out, addrs, halfOpen := s.core.SlotsInUse(); in != 0 || out != 0 || addrs != 0 || halfOpen != 0 {
		t.Fatalf("stopped session still counts slots: %d in, %d out, %d addresses, %d half-open", in, out, addrs, halfOpen)
	}
}

// rawHandshake completes a handshake for meta's torrent as id on nc and fails the test otherwise.
func rawHandshake(t *testing.T, nc net.Conn, meta *metainfo.MetaInfo, id [20]byte) {
	t.Helper()
	_ = nc.SetDeadline(time.Now().Add(testTimeout))
	if err := wire.WriteHandshake(nc, wire.Handshake{InfoHash: meta.InfoHashV1(), PeerID: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := wire.ReadHandshake(nc); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Time{})
}

// A seeder whose every slot is held by connections that brought nothing evicts the one idle
// longest for a leecher, which completes; the evicted connection is closed and every slot is
// accounted for once the session stops.
func TestEvictionGivesTheSlotToTheNewcomer(t *testing.T) {
	src, meta := testTorrent(t, 256<<10, 32<<10)
	cfg := testConfig(t, meta, src)
	cfg.Seed, cfg.Trusted = true, true
	cfg.MaxPeers, cfg.OutgoingSlots = 2, -1
	cfg.EvictIdleAfter = 100 * time.Millisecond
	seeder := startSession(t, cfg)
	var idle []net.Conn
	for i := range 2 {
		nc := rawDial(t, ipA, seeder.Addr())
		rawHandshake(t, nc, meta, [20]byte{'i', 'd', 'l', 'e', byte(i)})
		idle = append(idle, nc)
	}
	waitFor(t, "two idle connections", func() bool { return seeder.Stats().PeersConnected == 2 })
	time.Sleep(cfg.EvictIdleAfter) // they bring nothing past the grace

	leecher := startSession(t, leecherConfig(t, meta, t.TempDir(), "", seeder.Addr()))
	waitDone(t, leecher)
	if n := seeder.Stats().Evictions; n != 1 {
		t.Fatalf("%d evictions, want 1", n)
	}
	closed := 0
	for _, nc := range idle {
		_ = nc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := io.ReadAll(nc); err == nil { // EOF: closed by the seeder
			closed++
		}
	}
	if closed != 1 {
		t.Fatalf("%d idle connections closed, want the one evicted", closed)
	}
	_ = leecher.stop(t)
	_ = seeder.stop(t)
	assertSlotsFree(t, seeder.Session)
}
