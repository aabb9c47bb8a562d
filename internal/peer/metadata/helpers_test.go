package metadata

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/wire"
)

// multiFileTorrent is a directory torrent in 16 KiB pieces whose info dict spans two
// metadata pieces: a file of 1500 pieces (its layer takes three hash requests with proofs), one
// of 40, one of one piece (no layer), an empty one, and a copy of the 40-piece file (the same
// root).
func multiFileTorrent(t testing.TB) *metainfo.MetaInfo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	rng := rand.NewChaCha8([32]byte{1})
	files := map[string]int{"shards/a.bin": 1500*16<<10 - 100, "shards/b.bin": 40 * 16 << 10, "config.json": 300, "empty": 0}
	for name, size := range files {
		data := make([]byte, size)
		_, _ = rng.Read(data)
		writeFile(t, filepath.Join(dir, name), data)
	}
	b, err := os.ReadFile(filepath.Join(dir, "shards/b.bin"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "shards/copy-of-b.bin"), b)
	meta, err := metainfo.CreateDir(dir, metainfo.CreateOptions{PieceLength: 16 << 10, Announce: "http://tracker/announce"})
	if err != nil {
		t.Fatal(err)
	}
	if n := wire.MetadataPieces(int64(len(meta.InfoBytes()))); n < 2 {
		t.Fatalf("the info dict has %d metadata pieces, want 2 or more", n)
	}
	return meta
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// mutator rewrites (or drops: false) a message a fake seeder's core sends.
type mutator func(m wire.Message) (wire.Message, bool)

// seeder is a fake seeder on loopback: a real peer core holding every piece behind a minimal
// shell, whose outgoing messages pass through mutate (an attacker's behaviour).
type seeder struct {
	ln     net.Listener
	meta   *metainfo.MetaInfo
	mutate mutator
	conns  atomic.Int32
	wg     sync.WaitGroup
}

func startSeeder(t testing.TB, meta *metainfo.MetaInfo, mutate mutator) *seeder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &seeder{ln: ln, meta: meta, mutate: mutate}
	s.wg.Go(s.acceptLoop)
	t.Cleanup(func() { _ = ln.Close(); s.wg.Wait() })
	return s
}

func (s *seeder) addr() netip.AddrPort { return netip.MustParseAddrPort(s.ln.Addr().String()) }

func (s *seeder) acceptLoop() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		s.wg.Go(func() { s.serve(nc) })
	}
}

// serve runs one connection: the handshake, then every message to the core and its Send
// effects (mutated) to the socket.
func (s *seeder) serve(nc net.Conn) {
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	theirs, err := wire.ReadHandshake(nc)
	if err != nil || theirs.InfoHash != s.meta.InfoHashV1() {
		return
	}
	ours := wire.Handshake{InfoHash: theirs.InfoHash, PeerID: [20]byte{'s', byte(s.conns.Load())}}
	ours.SetFast()
	ours.SetHashes()
	ours.SetExtended()
	if wire.WriteHandshake(nc, ours) != nil {
		return
	}
	c, key, ok := s.newCore(nc, theirs)
	if !ok {
		return
	}
	w, r := wire.NewWriter(nc), wire.NewReader(nc, wire.BlockSize)
	for {
		for _, e := range c.Effects() {
			if m, keep := s.mutate(e.Msg); e.Kind == core.Send && keep && w.WriteMessages(m) != nil {
				return
			}
		}
		m, err := r.Read()
		if err != nil || c.Receive(time.Now(), key, m) != nil {
			return
		}
	}
}

func (s *seeder) newCore(nc net.Conn, theirs wire.Handshake) (*core.Core, core.ConnKey, bool) {
	have := make([]bool, s.meta.NumPieces())
	for i := range have {
		have[i] = true
	}
	now := time.Now()
	c, err := core.New(core.Config{Torrent: s.meta, Have: have, RandSeed: 1}, nil, now)
	if err != nil {
		return nil, 0, false
	}
	addr := netip.MustParseAddrPort(nc.RemoteAddr().String())
	h, _, _ := c.Accept(addr, nil)
	if c.AdmitIncoming(now, h, addr, theirs.PeerID) != core.NotRefused {
		return nil, 0, false
	}
	key, err := c.Connect(now, core.PeerInfo{ID: theirs.PeerID, Addr: addr, Fast: theirs.Fast(), Hashes: theirs.Hashes(), Extended: theirs.Extended()})
	return c, key, err == nil
}

// honest sends every message as the core made it.
func honest(m wire.Message) (wire.Message, bool) { return m, true }

// metadataMutator applies fn to the ut_metadata messages (and ext to the extension
// handshake); fn returns false to drop the message.
func metadataMutator(ext func(*wire.ExtHandshake), fn func(*wire.MetadataMsg) bool) mutator {
	return func(m wire.Message) (wire.Message, bool) {
		if m.ID != wire.Extended {
			return m, true
		}
		id, body, _ := wire.ParseExtended(m.Payload)
		if id == wire.ExtHandshakeID {
			h, _ := wire.ParseExtHandshake(body)
			if ext != nil {
				ext(&h)
			}
			return wire.ExtendedMessage(id, h.Body()), true
		}
		msg, err := wire.ParseMetadataMsg(body)
		if err != nil || fn == nil {
			return m, true
		}
		msg.Data = bytes.Clone(msg.Data)
		if !fn(&msg) {
			return m, false
		}
		return wire.ExtendedMessage(id, msg.Body()), true
	}
}

// hashesMutator applies fn to the hashes messages' hashes.
func hashesMutator(fn func(hashes []byte)) mutator {
	return func(m wire.Message) (wire.Message, bool) {
		if m.ID != wire.Hashes {
			return m, true
		}
		r, hashes, err := wire.ParseHashes(m.Payload)
		if err != nil {
			return m, true
		}
		hashes = bytes.Clone(hashes)
		fn(hashes)
		return r.HashesMessage(hashes), true
	}
}

// drops records the "Metadata peer dropped" records of a fetch (the other records go nowhere).
type drops struct {
	mu    sync.Mutex
	lines []string // "addr: err"
}

func (d *drops) Enabled(context.Context, slog.Level) bool { return true }
func (d *drops) WithAttrs([]slog.Attr) slog.Handler       { return d }
func (d *drops) WithGroup(string) slog.Handler            { return d }

func (d *drops) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "Metadata peer dropped" {
		return nil
	}
	var line string
	r.Attrs(func(a slog.Attr) bool {
		line += a.Key + "=" + a.Value.String() + " "
		return true
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lines = append(d.lines, line)
	return nil
}

// String lists the drops, for a failure's message.
func (d *drops) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.lines, "\n")
}

// dropped reports whether the peer at addr was dropped for a reason containing why.
func (d *drops) dropped(addr netip.AddrPort, why string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, line := range d.lines {
		if strings.Contains(line, "peer="+addr.String()+" ") && strings.Contains(line, why) {
			return true
		}
	}
	return false
}

// fetchFrom runs Fetch of meta's info-hash from the seeders, within a wide deadline.
func fetchFrom(t testing.TB, meta *metainfo.MetaInfo, stall time.Duration, seeders ...*seeder) (*metainfo.MetaInfo, *drops, error) {
	t.Helper()
	logs := &drops{}
	cfg := Config{
		InfoHash: meta.InfoHashV1(), InfoHashV2: meta.InfoHashV2(), PeerID: [20]byte{'l'},
		Announce: meta.Announce, MaxInfoBytes: max(1<<20, 2*int64(len(meta.InfoBytes()))), StallTimeout: stall,
		Log: slog.New(logs),
	}
	for _, s := range seeders {
		cfg.Peers = append(cfg.Peers, s.addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got, err := Fetch(ctx, cfg)
	return got, logs, err
}

// sameTorrent fails unless got is meta: the same info bytes and every file's piece layer.
func sameTorrent(t testing.TB, meta, got *metainfo.MetaInfo) {
	t.Helper()
	if !bytes.Equal(got.InfoBytes(), meta.InfoBytes()) || got.Announce != meta.Announce {
		t.Fatal("the fetched info dict differs")
	}
	if need := got.NeedsPieceLayers(); len(need) != 0 {
		t.Fatalf("piece layers of files %v still missing", need)
	}
	for file := range meta.Info.Files {
		want, have := meta.FilePieceLayer(file), got.FilePieceLayer(file)
		if len(want) != len(have) {
			t.Fatalf("file %d: %d layer hashes, want %d", file, len(have), len(want))
		}
		for i := range want {
			if want[i] != have[i] {
				t.Fatalf("file %d: layer hash %d differs", file, i)
			}
		}
	}
	a, err := meta.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := got.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("the fetched torrent does not encode to the same .torrent")
	}
}
