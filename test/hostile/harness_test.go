// Package hostile_test plays the attacker against real MiniBit sessions and a real tracker on
// loopback. Honest peers live on 127.0.0.1; attackers listen on and dial from other loopback
// addresses (127.0.0.2, ...), so that a ban of an attacker's address can be told apart from a
// ban of the honest ones.
//
// This file is the harness shared by the hostile tests: a swarm (tracker, content, torrent),
// sessions on a chosen loopback address, a hostile wire peer written with internal/wire (it
// serves blocks and hashes the way a test tells it to), and raw dial and handshake helpers.
package hostile_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/peer/peertest"
	"github.com/minibit-io/minibit/internal/tracker"
	"github.com/minibit-io/minibit/internal/tracker/client"
	"github.com/minibit-io/minibit/internal/tracker/trackertest"
	"github.com/minibit-io/minibit/internal/wire"
)

// Timeout bounds every wait of the hostile tests: generous, for a busy 2-core machine.
const Timeout = 60 * time.Second

// IP is the loopback address 127.0.0.n (n from 1 to 254).
func IP(n int) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, byte(n)}) }

// Logger logs the sessions' warnings to stderr under -v, and nothing otherwise.
func Logger() *slog.Logger {
	w := io.Discard
	if testing.Verbose() {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// RequireLoopback skips the test when ip cannot be bound (a system without 127.0.0.0/8 on lo).
func RequireLoopback(t testing.TB, ip netip.Addr) {
	t.Helper()
	ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String())
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	_ = ln.Close()
}

// Swarm is one test's tracker (real, in-process, on 127.0.0.1) and torrent.
type Swarm struct {
	T       testing.TB
	Tracker *tracker.Server
	// URL is the tracker's base URL.
	URL string
	// Meta is the torrent; Source the complete file; Data its bytes.
	Meta   *metainfo.MetaInfo
	Source string
	Data   []byte
}

// NewSwarm starts a tracker and makes a torrent of a deterministic file of size bytes (seed
// selects the content) with pieces of pieceLength bytes. Everything stops when the test ends.
func NewSwarm(t testing.TB, seed uint64, size, pieceLength int64) *Swarm {
	t.Helper()
	sw := &Swarm{T: t, Source: filepath.Join(t.TempDir(), "data.bin")}
	if err := generate.WriteFile(sw.Source, seed, size); err != nil {
		t.Fatal(err)
	}
	var err error
	if sw.Data, err = os.ReadFile(sw.Source); err != nil {
		t.Fatal(err)
	}
	if sw.Meta, err = metainfo.Create(sw.Source, metainfo.CreateOptions{PieceLength: pieceLength}); err != nil {
		t.Fatal(err)
	}
	tr := trackertest.Start(t, trackertest.WithHeartbeat(time.Second))
	sw.Tracker, sw.URL = tr.Server, tr.URL
	return sw
}

// Config is a session config of the swarm listening on ip (a free port) and announcing to the
// tracker, with a fast choker; a leecher unless the caller sets Seed.
func (sw *Swarm) Config(ip netip.Addr) peer.Config {
	cfg := peer.DefaultConfig()
	cfg.Torrent = sw.Meta
	cfg.Path = filepath.Join(sw.T.TempDir(), sw.Meta.Info.Name)
	cfg.ListenAddr = netip.AddrPortFrom(ip, 0).String()
	cfg.TrackerURL = sw.URL
	cfg.ChokeInterval = time.Second
	cfg.NoFileHash = true
	cfg.Logger = Logger()
	return cfg
}

// StartSeeder runs a seeder of the swarm's file on ip; opts change its config first.
func (sw *Swarm) StartSeeder(ip netip.Addr, opts ...func(*peer.Config)) *Peer {
	sw.T.Helper()
	cfg := sw.Config(ip)
	cfg.Path, cfg.Seed, cfg.Trusted = sw.Source, true, true
	for _, o := range opts {
		o(&cfg)
	}
	return sw.Start(cfg)
}

// StartLeecher runs a leecher on ip; opts change its config first.
func (sw *Swarm) StartLeecher(ip netip.Addr, opts ...func(*peer.Config)) *Peer {
	sw.T.Helper()
	cfg := sw.Config(ip)
	for _, o := range opts {
		o(&cfg)
	}
	return sw.Start(cfg)
}

// Peer is a running session (run by peertest).
type Peer struct {
	*peer.Session
	*peertest.Running
	// Config is what it was started with.
	Config peer.Config
}

// Start creates and runs a session with cfg; it stops when the test ends.
func (sw *Swarm) Start(cfg peer.Config) *Peer {
	sw.T.Helper()
	s, err := peer.New(cfg)
	if err != nil {
		sw.T.Fatal(err)
	}
	return &Peer{Session: s, Running: peertest.Run(sw.T, s), Config: cfg}
}

// Stop ends the session and waits for Run to return.
func (p *Peer) Stop() { _ = p.Running.Stop() }

// WaitDone waits up to timeout for the verified file and returns the time since the start;
// it fails the test otherwise.
func (p *Peer) WaitDone(t testing.TB, timeout time.Duration) time.Duration {
	t.Helper()
	return p.Running.WaitDone(t, timeout, func() any { return p.Stats() })
}

// AssertFile fails unless p's file holds the swarm's content.
func (sw *Swarm) AssertFile(t testing.TB, p *Peer) {
	t.Helper()
	path := p.Config.Path
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sw.Data) {
		t.Fatalf("%s differs from the swarm's content", path)
	}
}

// LeafHashes returns the swarm file's leaf hashes (SHA-256 of each 16 KiB block, 32 zero bytes
// past the end of the file) of a base-layer range: what an honest peer sends in a hashes message.
func (sw *Swarm) LeafHashes(r wire.HashRange) []byte {
	out := make([]byte, 0, int(r.Length)*32)
	for j := int64(r.Index); j < int64(r.Index)+int64(r.Length); j++ {
		off := j * wire.BlockSize
		if off >= int64(len(sw.Data)) {
			out = append(out, make([]byte, 32)...)
			continue
		}
		sum := sha256.Sum256(sw.Data[off:min(off+wire.BlockSize, int64(len(sw.Data)))])
		out = append(out, sum[:]...)
	}
	return out
}

// DialFrom opens a TCP connection from the loopback address local (any port) to to.
func DialFrom(local netip.Addr, to netip.AddrPort, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: local.AsSlice()}}
	return d.Dial("tcp", to.String())
}

// Handshake sends our handshake for the swarm's torrent on nc (with reserved bits) and reads
// the remote's, within Timeout.
func (sw *Swarm) Handshake(nc net.Conn, id [20]byte, reserved [8]byte) (wire.Handshake, error) {
	_ = nc.SetDeadline(time.Now().Add(Timeout))
	defer func() { _ = nc.SetDeadline(time.Time{}) }()
	ours := wire.Handshake{Reserved: reserved, InfoHash: sw.Meta.InfoHashV1(), PeerID: id}
	if err := wire.WriteHandshake(nc, ours); err != nil {
		return wire.Handshake{}, err
	}
	return wire.ReadHandshake(nc)
}

// PeerID returns a recognisable peer id: prefix, then the rest from n.
func PeerID(prefix string, n int) [20]byte {
	var id [20]byte
	copy(id[:], fmt.Sprintf("%-8s%012d", prefix, n))
	return id
}

// HostileConfig says how a hostile wire peer behaves. The zero value (with an IP) is an honest
// seed that does not speak the hash messages.
type HostileConfig struct {
	// IP is the loopback address it listens on and dials from.
	IP netip.Addr
	// PeerID is its peer id (spoof another peer's by setting it); zero picks one.
	PeerID [20]byte
	// Block returns what it sends for a requested block, given the true bytes; nil is honest.
	Block func(piece, begin int, data []byte) []byte
	// Hashes, when set, makes it speak the hash messages (the reserved bit) and returns its
	// answer to a hash request, given the true hashes (nil sends a hash reject).
	Hashes func(r wire.HashRange, honest []byte) []byte
}

// Random returns a Block function that replaces every block with random-looking bytes.
func Random() func(piece, begin int, data []byte) []byte {
	return func(piece, begin int, data []byte) []byte {
		sum := sha256.Sum256(fmt.Appendf(nil, "junk %d %d", piece, begin))
		return bytes.Repeat(sum[:1], len(data))
	}
}

// Hostile is a wire peer driven by a test: it speaks the handshake, says it has every piece
// (HaveAll), unchokes everyone, and answers requests and hash requests per its config.
type Hostile struct {
	sw  *Swarm
	cfg HostileConfig
	ln  net.Listener
	ctx context.Context
	wg  sync.WaitGroup
	// Blocks and HashAnswers count what it sent.
	Blocks, HashAnswers atomic.Int64
}

// StartHostile listens on cfg.IP and serves every connection until the test ends.
func (sw *Swarm) StartHostile(cfg HostileConfig) *Hostile {
	sw.T.Helper()
	if cfg.PeerID == ([20]byte{}) {
		cfg.PeerID = PeerID("-XX0001-", int(cfg.IP.As4()[3]))
	}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(cfg.IP, 0).String())
	if err != nil {
		sw.T.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hostile{sw: sw, cfg: cfg, ln: ln, ctx: ctx}
	h.wg.Add(1)
	go h.acceptLoop()
	sw.T.Cleanup(func() {
		cancel()
		_ = ln.Close()
		h.wg.Wait()
	})
	return h
}

// Addr is where it listens.
func (h *Hostile) Addr() netip.AddrPort { return h.ln.Addr().(*net.TCPAddr).AddrPort() }

// ID is its peer id.
func (h *Hostile) ID() [20]byte { return h.cfg.PeerID }

// Announce tells the tracker, from its own address, that it seeds the torrent.
func (h *Hostile) Announce(ctx context.Context) error {
	c := client.NewClient(h.sw.URL)
	d := &net.Dialer{Timeout: Timeout, LocalAddr: &net.TCPAddr{IP: h.cfg.IP.AsSlice()}}
	c.HTTP = &http.Client{Timeout: Timeout, Transport: &http.Transport{DialContext: d.DialContext}}
	_, err := c.Announce(ctx, client.AnnounceRequest{
		InfoHash: h.sw.Meta.InfoHashV1(), PeerID: h.cfg.PeerID, Port: int(h.Addr().Port()), Event: "started",
	})
	return err
}

// Dial connects from its address to a session and serves the connection in the background.
func (h *Hostile) Dial(to netip.AddrPort) error {
	nc, err := DialFrom(h.cfg.IP, to, Timeout)
	if err != nil {
		return err
	}
	if _, err := h.sw.Handshake(nc, h.cfg.PeerID, h.reserved()); err != nil {
		_ = nc.Close()
		return err
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		_ = h.serve(nc)
	}()
	return nil
}

func (h *Hostile) reserved() [8]byte {
	var hs wire.Handshake
	hs.SetFast()
	if h.cfg.Hashes != nil {
		hs.SetHashes()
	}
	return hs.Reserved
}

func (h *Hostile) acceptLoop() {
	defer h.wg.Done()
	for {
		nc, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			_ = h.answer(nc)
		}()
	}
}

// answer is the accepting side's handshake, then serve.
func (h *Hostile) answer(nc net.Conn) error {
	_ = nc.SetDeadline(time.Now().Add(Timeout))
	theirs, err := wire.ReadHandshake(nc)
	if err != nil || theirs.InfoHash != h.sw.Meta.InfoHashV1() {
		_ = nc.Close()
		return errors.New("bad handshake")
	}
	ours := wire.Handshake{Reserved: h.reserved(), InfoHash: theirs.InfoHash, PeerID: h.cfg.PeerID}
	if err := wire.WriteHandshake(nc, ours); err != nil {
		_ = nc.Close()
		return err
	}
	_ = nc.SetDeadline(time.Time{})
	return h.serve(nc)
}

// serve sends HaveAll and Unchoke, then answers requests until the connection or the test ends.
func (h *Hostile) serve(nc net.Conn) error {
	defer nc.Close()
	stop := context.AfterFunc(h.ctx, func() { _ = nc.Close() })
	defer stop()
	w := wire.NewWriter(nc)
	if err := h.write(nc, w, wire.Message{ID: wire.HaveAll}, wire.Message{ID: wire.Unchoke}); err != nil {
		return err
	}
	r := wire.NewReader(nc, wire.BlockSize)
	for {
		_ = nc.SetReadDeadline(time.Now().Add(Timeout))
		m, err := r.Read()
		if err != nil {
			return err
		}
		if reply, ok := h.reply(m); ok {
			if err := h.write(nc, w, reply); err != nil {
				return err
			}
		}
	}
}

func (h *Hostile) write(nc net.Conn, w *wire.Writer, ms ...wire.Message) error {
	_ = nc.SetWriteDeadline(time.Now().Add(Timeout))
	return w.WriteMessages(ms...)
}

// reply is its answer to one message, if any.
func (h *Hostile) reply(m wire.Message) (wire.Message, bool) {
	switch m.ID {
	case wire.Request:
		off := h.sw.Meta.PieceOffset(int(m.Index)) + int64(m.Begin)
		if m.Length > wire.BlockSize || off < 0 || off+int64(m.Length) > int64(len(h.sw.Data)) {
			return wire.Message{}, false
		}
		data := bytes.Clone(h.sw.Data[off : off+int64(m.Length)])
		if h.cfg.Block != nil {
			data = h.cfg.Block(int(m.Index), int(m.Begin), data)
		}
		h.Blocks.Add(1)
		return wire.Message{ID: wire.Piece, Index: m.Index, Begin: m.Begin, Payload: data}, true
	case wire.HashRequest:
		r, err := wire.ParseHashRange(m.Payload)
		if err != nil || h.cfg.Hashes == nil {
			return wire.Message{ID: wire.HashReject, Payload: bytes.Clone(m.Payload)}, true
		}
		answer := h.cfg.Hashes(r, h.sw.LeafHashes(r))
		if answer == nil {
			return r.Message(wire.HashReject), true
		}
		h.HashAnswers.Add(1)
		return r.HashesMessage(answer), true
	}
	return wire.Message{}, false
}
