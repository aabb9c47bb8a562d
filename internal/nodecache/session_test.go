package nodecache

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/peer/peertest"
)

// These tests run real sessions on loopback over the cache, wired as `peer get --cache-root`
// wires them (cmd/peer/cache.go): Acquire, a session on Entry.Path (seeding at once, trusted,
// on a hit), Finish once the session is done.

const sessionTimeout = 60 * time.Second

func sessionConfig(meta *metainfo.MetaInfo, path string, peers ...netip.AddrPort) peer.Config {
	cfg := peer.DefaultConfig()
	cfg.Torrent, cfg.Path, cfg.ListenAddr, cfg.Peers = meta, path, "127.0.0.1:0", peers
	cfg.NoFileHash, cfg.Logger = true, quiet
	return cfg
}

// startSeeder seeds the original file.
func startSeeder(t *testing.T, file string, meta *metainfo.MetaInfo) *peer.Session {
	t.Helper()
	cfg := sessionConfig(meta, file)
	cfg.Seed = true
	s, err := peer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	peertest.Run(t, s)
	return s
}

// node is one node's peer over a cache.
type node struct {
	s     *peer.Session
	run   *peertest.Running
	entry *Entry
}

// startNode acquires the content in c and starts a session on it.
func startNode(t *testing.T, c *Cache, meta *metainfo.MetaInfo, peers ...netip.AddrPort) *node {
	t.Helper()
	e, err := c.Acquire(context.Background(), quiet, ContentOf(meta))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	cfg := sessionConfig(meta, e.Path(), peers...)
	cfg.Seed, cfg.Trusted = e.Hit(), e.Hit()
	s, err := peer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &node{s: s, run: peertest.Run(t, s), entry: e}
}

// finish waits for the node's verified file and records and links it as name.
func (n *node) finish(t *testing.T, name Name) {
	t.Helper()
	n.run.WaitDone(t, sessionTimeout, func() any { return n.s.Stats() })
	if err := n.entry.Finish(name, ""); err != nil {
		t.Fatal(err)
	}
}

// downloadOnce downloads meta into c from the seeder, records and links it as name, and stops.
func downloadOnce(t *testing.T, c *Cache, meta *metainfo.MetaInfo, seeder *peer.Session, name Name) *node {
	t.Helper()
	n := startNode(t, c, meta, seeder.Addr())
	n.finish(t, name)
	_ = n.run.Stop()
	_ = n.entry.Close()
	return n
}

func recordPath(c *Cache, meta *metainfo.MetaInfo) string {
	p, _ := c.contentPath(ContentOf(meta).hex(), recordName)
	return p
}

// The record is written only once the download is verified: not while pieces arrive, and not
// by a session that never completes.
func TestRecordOnlyAfterAVerifiedDownload(t *testing.T) {
	file, meta := peertest.Torrent(t, 4<<20, 64<<10)
	c := newCache(t)
	name := mustName(t, "ns/first")

	// No seeder: the session cannot complete; nothing is recorded or linked.
	lonely := startNode(t, c, meta)
	time.Sleep(300 * time.Millisecond)
	if exists(recordPath(c, meta)) || exists(filepath.Join(c.Root(), byNameDir, "ns", "first")) {
		t.Fatal("a record or link exists before the copy was verified")
	}
	_ = lonely.run.Stop()
	_ = lonely.entry.Close()

	seeder := startSeeder(t, file, meta)
	n := startNode(t, c, meta, seeder.Addr())
	if exists(recordPath(c, meta)) {
		t.Fatal("a record exists while downloading")
	}
	n.finish(t, name)
	if !exists(recordPath(c, meta)) {
		t.Fatal("no record after the verified download")
	}
	peertest.SameFile(t, file, filepath.Join(c.Root(), byNameDir, "ns", "first", meta.Info.Name))
	if st := n.s.Stats(); st.BytesDownloaded < meta.Info.Length {
		t.Fatalf("the first node downloaded %d bytes of %d", st.BytesDownloaded, meta.Info.Length)
	}
}

// A second peer on the same root finishes at once without downloading a byte or hashing, and
// serves its copy to another leecher. No hashing is proven by a piece corrupted behind the
// record's back (its record rewritten to match): a session that hashed would miss that piece;
// the hit's session starts with every piece.
func TestCacheHitSeedsWithoutDownloadOrHashing(t *testing.T) {
	file, meta := peertest.Torrent(t, 4<<20, 64<<10)
	c := newCache(t)
	name := mustName(t, "ns/s")
	seeder := startSeeder(t, file, meta)
	downloadOnce(t, c, meta, seeder, name)

	hit := startNode(t, c, meta) // no peers: it could not download anything
	if !hit.entry.Hit() {
		t.Fatal("the second start is not a hit")
	}
	hit.run.WaitDone(t, 5*time.Second, nil)
	if st := hit.s.Stats(); st.BytesDownloaded != 0 || st.PiecesHave != st.PiecesTotal {
		t.Fatalf("the hit downloaded %d bytes, holds %d of %d pieces", st.BytesDownloaded, st.PiecesHave, st.PiecesTotal)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.bin")
	leecher, err := peer.New(sessionConfig(meta, copyPath, hit.s.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	peertest.Run(t, leecher).WaitDone(t, sessionTimeout, func() any { return leecher.Stats() })
	peertest.SameFile(t, file, copyPath)
	_ = hit.run.Stop()
	_ = hit.entry.Close()

	// Corrupt piece 3 and make the record describe the file as it now is.
	path := hit.entry.Path()
	corrupt(t, path, meta.PieceOffset(3))
	r, err := readRecord(recordPath(c, meta))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := statFile(path)
	r.MtimeUnixNano, r.CtimeUnixNano, r.Inode = id.mtimeNano, id.ctimeNano, id.inode
	if err := writeRecord(recordPath(c, meta), r); err != nil {
		t.Fatal(err)
	}
	trusted := startNode(t, c, meta)
	if st := trusted.s.Stats(); !trusted.entry.Hit() || st.PiecesHave != st.PiecesTotal {
		t.Fatalf("hit %v, %d of %d pieces: the session hashed the file", trusted.entry.Hit(), st.PiecesHave, st.PiecesTotal)
	}
}

// corrupt flips one byte of the file at off.
func corrupt(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// A changed copy is verified again and repaired: a corrupted piece is fetched again, the file
// ends whole and a new record describes it. A copy only touched is verified again without a
// download.
func TestChangedCopyIsVerifiedAndRepaired(t *testing.T) {
	file, meta := peertest.Torrent(t, 4<<20, 64<<10)
	c := newCache(t)
	name := mustName(t, "ns/s")
	seeder := startSeeder(t, file, meta)
	first := downloadOnce(t, c, meta, seeder, name)
	path := first.entry.Path()
	before, _ := readRecord(recordPath(c, meta))

	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	touched := startNode(t, c, meta) // no peers: it must verify, not download
	if touched.entry.Hit() {
		t.Fatal("a touched copy is a hit")
	}
	touched.finish(t, name)
	if st := touched.s.Stats(); st.BytesDownloaded != 0 {
		t.Fatalf("the touched copy downloaded %d bytes", st.BytesDownloaded)
	}
	_ = touched.run.Stop()
	_ = touched.entry.Close()

	corrupt(t, path, meta.PieceOffset(5)+100)
	repaired := startNode(t, c, meta, seeder.Addr())
	if repaired.entry.Hit() {
		t.Fatal("a corrupted copy is a hit")
	}
	repaired.finish(t, name)
	st := repaired.s.Stats()
	if st.BytesDownloaded != int64(meta.PieceLen(5)) {
		t.Errorf("the repair downloaded %d bytes, want the one bad piece's %d", st.BytesDownloaded, meta.PieceLen(5))
	}
	peertest.SameFile(t, file, path)
	after, err := readRecord(recordPath(c, meta))
	if err != nil || after.MtimeUnixNano == before.MtimeUnixNano {
		t.Fatalf("the record was not renewed: %+v, %v", after, err)
	}
	hit := startNode(t, c, meta)
	if !hit.entry.Hit() {
		t.Fatal("the repaired copy is not a hit")
	}
}

// Two nodes, each with its own cache root, in one swarm on loopback: the second's root holds a
// verified copy already, so it finishes at once without downloading and is the first node's
// only source (no seeder runs).
func TestTwoNodesTheSecondHoldsACopy(t *testing.T) {
	file, meta := peertest.Torrent(t, 4<<20, 64<<10)
	rootA, rootB := newCache(t), newCache(t)
	name := mustName(t, "ns/s")
	seeder := startSeeder(t, file, meta)
	downloadOnce(t, rootB, meta, seeder, name)
	_ = seeder.Close()

	b := startNode(t, rootB, meta)
	if !b.entry.Hit() {
		t.Fatal("node B's verified copy is not a hit")
	}
	b.finish(t, name)
	a := startNode(t, rootA, meta, b.s.Addr())
	a.finish(t, name)
	if st := b.s.Stats(); st.BytesDownloaded != 0 || st.BytesUploaded < meta.Info.Length {
		t.Fatalf("node B downloaded %d bytes and uploaded %d, want 0 and the whole file", st.BytesDownloaded, st.BytesUploaded)
	}
	for _, c := range []*Cache{rootA, rootB} {
		peertest.SameFile(t, file, filepath.Join(c.Root(), byNameDir, "ns", "s", meta.Info.Name))
	}
}

// treeFile is the path of the file rel in a directory's copy.
func treeFile(e *Entry, rel string) string {
	return filepath.Join(e.Path(), filepath.FromSlash(rel))
}

// treeInCache seeds peertest.Tree's directory "model" and downloads it once into a new cache
// as gpu/model; the seeder runs on.
func treeInCache(t *testing.T) (src string, meta *metainfo.MetaInfo, c *Cache, seeder *peer.Session, first *node) {
	t.Helper()
	src, meta = peertest.Tree(t, "model", 64<<10)
	c = newCache(t)
	seeder = startSeeder(t, src, meta)
	first = downloadOnce(t, c, meta, seeder, mustName(t, "gpu/model"))
	return src, meta, c, seeder, first
}

// A directory (a multi-file torrent) downloaded into the cache is a hit for the next peer,
// which seeds at once without downloading or hashing: proven, as for a file, by a piece
// corrupted behind the record's back (the record rewritten to match) that the hit's session
// still counts as held.
func TestDirectoryCacheHitWithoutHashing(t *testing.T) {
	src, meta, c, seeder, first := treeInCache(t)
	peertest.SameTree(t, src, filepath.Join(c.Root(), byNameDir, "gpu", "model", "model"))
	_ = seeder.Close()

	hit := startNode(t, c, meta) // no peers
	if !hit.entry.Hit() {
		t.Fatal("the unchanged directory is not a hit")
	}
	hit.run.WaitDone(t, 5*time.Second, nil)
	if st := hit.s.Stats(); st.BytesDownloaded != 0 || st.PiecesHave != st.PiecesTotal {
		t.Fatalf("the hit downloaded %d bytes, holds %d of %d pieces", st.BytesDownloaded, st.PiecesHave, st.PiecesTotal)
	}
	_ = hit.run.Stop()
	_ = hit.entry.Close()

	corrupt(t, treeFile(first.entry, "shards/model-00002.bin"), 70<<10)
	content := ContentOf(meta)
	r, err := readRecordLimit(recordPath(c, meta), recordLimit(content))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := scanTree(first.entry.Path(), content.Files)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		r.Files[i].MtimeUnixNano, r.Files[i].CtimeUnixNano, r.Files[i].Inode = id.mtimeNano, id.ctimeNano, id.inode
	}
	if err := writeRecord(recordPath(c, meta), r); err != nil {
		t.Fatal(err)
	}
	trusted := startNode(t, c, meta)
	if st := trusted.s.Stats(); !trusted.entry.Hit() || st.PiecesHave != st.PiecesTotal {
		t.Fatalf("hit %v, %d of %d pieces: the session hashed the directory", trusted.entry.Hit(), st.PiecesHave, st.PiecesTotal)
	}
}

// A directory's file modified in place (same size) makes the copy a miss: the session verifies
// it piece by piece and fetches only the bad piece again. A symlink planted in the copy,
// pointing outside, is a miss too: it is removed (never followed), the files verify without a
// download, and the copy is a hit again.
func TestDirectoryChangedIsVerifiedAndRepaired(t *testing.T) {
	src, meta, c, seeder, first := treeInCache(t)
	name := mustName(t, "gpu/model")

	victim := treeFile(first.entry, "shards/model-00001.bin")
	afterTick(t, victim)
	corrupt(t, victim, 100)
	repaired := startNode(t, c, meta, seeder.Addr())
	if repaired.entry.Hit() {
		t.Fatal("a directory with a file modified in place is a hit")
	}
	repaired.finish(t, name)
	if st := repaired.s.Stats(); st.BytesDownloaded != 64<<10 {
		t.Errorf("the repair downloaded %d bytes, want the one bad piece's %d", st.BytesDownloaded, 64<<10)
	}
	peertest.SameTree(t, src, first.entry.Path())
	_ = repaired.run.Stop()
	_ = repaired.entry.Close()

	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret"), "keep me")
	planted := treeFile(first.entry, "tokenizer/deep/leak")
	symlink(t, outside, planted)
	checked := startNode(t, c, meta) // no peers: it must verify, not download
	if checked.entry.Hit() {
		t.Fatal("a directory with a planted symlink is a hit")
	}
	checked.finish(t, name)
	if exists(planted) {
		t.Fatal("the planted symlink stays in the copy")
	}
	assertOutsideUntouched(t, outside)
	peertest.SameTree(t, src, first.entry.Path())
	_ = checked.run.Stop()
	_ = checked.entry.Close()
	if !hitOf(t, c, ContentOf(meta)) {
		t.Fatal("the verified directory is not a hit")
	}
}
