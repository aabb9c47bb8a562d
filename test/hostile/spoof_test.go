package hostile_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/metrics"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/wire"
)

// spoofFast is the reserved field of a handshake with the fast extension (BEP 6).
func spoofFast() [8]byte {
	var hs wire.Handshake
	hs.SetFast()
	return hs.Reserved
}

// spoofPeer is an honest peer on 127.0.0.1 written with internal/wire, so that the test sees
// its one connection to the session: it has nothing, wants everything and checks that the
// connection still serves it.
type spoofPeer struct {
	nc net.Conn
	r  *wire.Reader
	w  *wire.Writer
}

func spoofWrap(nc net.Conn, maxPayload int) *spoofPeer {
	return &spoofPeer{nc: nc, r: wire.NewReader(nc, maxPayload), w: wire.NewWriter(nc)}
}

// spoofDial connects an honest peer with id to the session at to.
func spoofDial(t *testing.T, sw *Swarm, to netip.AddrPort, id [20]byte) *spoofPeer {
	t.Helper()
	nc, err := DialFrom(IP(1), to, Timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	if _, err := sw.Handshake(nc, id, spoofFast()); err != nil {
		t.Fatalf("honest handshake: %v", err)
	}
	return spoofWrap(nc, spoofMaxPayload(sw))
}

// spoofListen listens on 127.0.0.1 for the session's dial and answers it as the honest peer id;
// it returns the address to give the session and a function that waits for the connection.
func spoofListen(t *testing.T, sw *Swarm, id [20]byte) (netip.AddrPort, func() *spoofPeer) {
	t.Helper()
	ln, err := net.Listen("tcp", netip.AddrPortFrom(IP(1), 0).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	accept := func() *spoofPeer {
		t.Helper()
		_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(Timeout))
		nc, err := ln.Accept()
		if err != nil {
			t.Fatalf("the session did not dial the honest peer: %v", err)
		}
		t.Cleanup(func() { _ = nc.Close() })
		_ = nc.SetDeadline(time.Now().Add(Timeout))
		theirs, err := wire.ReadHandshake(nc)
		if err != nil {
			t.Fatal(err)
		}
		ours := wire.Handshake{Reserved: spoofFast(), InfoHash: theirs.InfoHash, PeerID: id}
		if err := wire.WriteHandshake(nc, ours); err != nil {
			t.Fatal(err)
		}
		_ = nc.SetDeadline(time.Time{})
		return spoofWrap(nc, spoofMaxPayload(sw))
	}
	return ln.Addr().(*net.TCPAddr).AddrPort(), accept
}

func spoofMaxPayload(sw *Swarm) int { return max(wire.BlockSize, (sw.Meta.NumPieces()+7)/8) }

// join reads the session's first message (what it has), says it has nothing and is interested,
// and waits to be unchoked.
func (p *spoofPeer) join(t *testing.T) {
	t.Helper()
	if _, err := p.next(wire.HaveAll); err != nil {
		t.Fatalf("the session's first message: %v", err)
	}
	if err := p.send(wire.Message{ID: wire.HaveNone}, wire.Message{ID: wire.Interested}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.next(wire.Unchoke); err != nil {
		t.Fatalf("waiting to be unchoked: %v", err)
	}
}

// alive requests the first block and waits for it: the connection still serves the peer.
func (p *spoofPeer) alive(sw *Swarm) error {
	if err := p.send(wire.Message{ID: wire.Request, Index: 0, Begin: 0, Length: wire.BlockSize}); err != nil {
		return err
	}
	m, err := p.next(wire.Piece)
	if err != nil {
		return err
	}
	if !bytes.Equal(m.Payload, sw.Data[:wire.BlockSize]) {
		return errors.New("the block differs from the swarm's content")
	}
	return nil
}

func (p *spoofPeer) send(ms ...wire.Message) error {
	_ = p.nc.SetWriteDeadline(time.Now().Add(Timeout))
	return p.w.WriteMessages(ms...)
}

// next reads messages until one with id (a bounded number, within Timeout).
func (p *spoofPeer) next(id wire.ID) (wire.Message, error) {
	_ = p.nc.SetReadDeadline(time.Now().Add(Timeout))
	for range 1000 {
		m, err := p.r.Read()
		if err != nil {
			return m, err
		}
		if !m.KeepAlive && m.ID == id {
			return m, nil
		}
	}
	return wire.Message{}, fmt.Errorf("no message %d in 1000", id)
}

// spoofAttack connects from 127.0.0.2 claiming id and reports whether the session registered the
// connection (it sent a message after the handshake) rather than closing it.
func spoofAttack(t *testing.T, sw *Swarm, to netip.AddrPort, id [20]byte) (registered bool) {
	t.Helper()
	nc, err := DialFrom(IP(2), to, Timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := sw.Handshake(nc, id, spoofFast()); err != nil {
		return false // closed before even answering
	}
	_ = nc.SetReadDeadline(time.Now().Add(Timeout))
	m, err := wire.NewReader(nc, spoofMaxPayload(sw)).Read()
	if err != nil {
		return false
	}
	t.Logf("the spoofer got message %d after its handshake", m.ID)
	return true
}

// Peer ids that sort below and above the honest peer's: the order once decided which of two
// connections with one id was kept.
var (
	spoofLowID  = [20]byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	spoofHighID = [20]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// A connection from 127.0.0.2 claiming the id of an honest peer connected to a seeder is
// refused, and the honest connection stays and keeps serving: whichever side dialled, whichever
// id sorts first.
func TestSpoofedPeerIDIsRefused(t *testing.T) {
	RequireLoopback(t, IP(2))
	honestID := PeerID("-HN0001-", 1)
	for _, tc := range []struct {
		name        string
		seederID    [20]byte
		seederDials bool
	}{
		{"honest peer dialled, seeder id lower", spoofLowID, false},
		{"honest peer dialled, seeder id higher", spoofHighID, false},
		{"seeder dialled, seeder id lower", spoofLowID, true},
		{"seeder dialled, seeder id higher", spoofHighID, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := NewSwarm(t, 12, 256<<10, 32<<10)
			var honest *spoofPeer
			var seeder *Peer
			if tc.seederDials {
				addr, accept := spoofListen(t, sw, honestID)
				seeder = sw.StartSeeder(IP(1), func(c *peer.Config) {
					c.PeerID, c.TrackerURL, c.Peers = tc.seederID, "", []netip.AddrPort{addr}
				})
				honest = accept()
			} else {
				seeder = sw.StartSeeder(IP(1), func(c *peer.Config) { c.PeerID, c.TrackerURL = tc.seederID, "" })
				honest = spoofDial(t, sw, seeder.Addr(), honestID)
			}
			honest.join(t)

			if spoofAttack(t, sw, seeder.Addr(), honestID) {
				t.Error("the seeder registered the connection claiming a connected peer's id")
			}
			if err := honest.alive(sw); err != nil {
				t.Fatalf("the honest connection no longer serves its peer: %v", err)
			}
			st := seeder.Stats()
			if st.Refused[metrics.RefusedDuplicateID] != 1 || st.PeersConnected != 1 {
				t.Fatalf("seeder: %d refused as duplicates, %d connected; want 1 and 1", st.Refused[metrics.RefusedDuplicateID], st.PeersConnected)
			}
		})
	}
}

// With real sessions: while an honest leecher downloads from a seeder, a connection from
// 127.0.0.2 claims the leecher's id at the seeder. It is refused and the leecher completes.
func TestSpoofedPeerIDDoesNotStopADownload(t *testing.T) {
	RequireLoopback(t, IP(2))
	sw := NewSwarm(t, 13, 1<<20, 64<<10)
	seeder := sw.StartSeeder(IP(1), func(c *peer.Config) { c.UploadRate = 512 << 10 }) // about 2 s
	leecher := sw.StartLeecher(IP(1), func(c *peer.Config) { c.Peers = []netip.AddrPort{seeder.Addr()} })
	floodWait(t, "the leecher's first pieces", func() bool { return leecher.Stats().PiecesHave > 0 })
	if spoofAttack(t, sw, seeder.Addr(), leecher.PeerID()) {
		t.Error("the seeder registered the connection claiming the leecher's id")
	}
	took := leecher.WaitDone(t, Timeout)
	if n := seeder.Stats().Refused[metrics.RefusedDuplicateID]; n != 1 {
		t.Fatalf("%d connections refused as duplicates, want 1", n)
	}
	t.Logf("the leecher completed in %v despite the spoof", took)
}
