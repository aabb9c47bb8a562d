package nodecache

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newCache(t *testing.T) *Cache {
	t.Helper()
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeContent is a 5-byte file's identity with the info-hash 0xb repeated 20 times.
func fakeContent(b byte) Content {
	var ih [20]byte
	for i := range ih {
		ih[i] = b
	}
	return Content{InfoHash: ih, Name: "data.bin", Size: 5, PieceLength: 16 << 10}
}

func mustName(t *testing.T, s string) Name {
	t.Helper()
	n, err := ParseName(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// acquire acquires content in c, released at the end of the test (Close may come earlier).
func acquire(t *testing.T, c *Cache, content Content) *Entry {
	t.Helper()
	e, err := c.Acquire(context.Background(), quiet, content)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// store puts a copy of content in the cache as a session would (write the file, then Finish)
// and lets it go; the name links to it.
func store(t *testing.T, c *Cache, content Content, name Name) {
	t.Helper()
	e := acquire(t, c, content)
	defer func() { _ = e.Close() }()
	if e.Hit() {
		t.Fatal("a fresh content is a hit")
	}
	if err := os.WriteFile(e.Path(), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.Finish(name, ""); err != nil {
		t.Fatal(err)
	}
}

func linkOf(t *testing.T, c *Cache, n Name) string {
	t.Helper()
	target, err := os.Readlink(filepath.Join(c.Root(), byNameDir, n.Namespace, n.Swarm))
	if err != nil {
		t.Fatal(err)
	}
	return target
}

// The layout of the contract: the copy under content/<ih>/, the record beside it, a relative
// link by-name/<ns>/<swarm> -> ../../content/<ih>, through which the file reads.
func TestFinishRecordsAndLinks(t *testing.T) {
	c := newCache(t)
	content, name := fakeContent(0xab), mustName(t, "team/models")
	store(t, c, content, name)
	ih := content.hex()
	if got := linkOf(t, c, name); got != "../../content/"+ih {
		t.Fatalf("link target %q", got)
	}
	data, err := os.ReadFile(filepath.Join(c.Root(), byNameDir, "team", "models", "data.bin"))
	if err != nil || string(data) != "hello" {
		t.Fatalf("reading through the stable path: %q, %v", data, err)
	}
	r, err := readRecord(filepath.Join(c.Root(), contentDir, ih, recordName))
	if err != nil || r.InfoHash != ih || r.Size != 5 || r.Name != "data.bin" || r.Inode == 0 || r.VerifiedAt.IsZero() {
		t.Fatalf("record %+v, %v", r, err)
	}
	e := acquire(t, c, content)
	if !e.Hit() {
		t.Fatal("the recorded, unchanged copy is not a hit")
	}
}

// A record is only as good as the file it describes: a touch, a rewrite with the old mtime set
// back, a replacement (new inode) or another torrent each make the copy a miss again, and the
// stale record goes.
func TestRecordMismatchIsAMiss(t *testing.T) {
	for name, change := range map[string]func(t *testing.T, path string){
		"touch": func(t *testing.T, path string) {
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
		},
		"rewritten, mtime set back": func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			afterTick(t, path) // a ctime tick apart, polled
			if err := os.WriteFile(path, []byte("HELLO"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
		},
		"replaced": func(t *testing.T, path string) {
			if err := os.WriteFile(path+".new", []byte("hello"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(path+".new", path); err != nil {
				t.Fatal(err)
			}
		},
		"a symlink": func(t *testing.T, path string) {
			if err := os.Rename(path, path+".old"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/etc/hostname", path); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := newCache(t)
			content := fakeContent(0x11)
			store(t, c, content, mustName(t, "ns/s"))
			path, _ := c.contentPath(content.hex(), content.Name)
			change(t, path)
			e := acquire(t, c, content)
			if e.Hit() {
				t.Fatal("a changed file is a hit")
			}
			if exists(filepath.Join(filepath.Dir(path), recordName)) {
				t.Error("the stale record stays")
			}
			if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
				t.Error("a symlink in place of the copy stays (the session would serve its target)")
			}
		})
	}
	c := newCache(t)
	content := fakeContent(0x12)
	store(t, c, content, mustName(t, "ns/s"))
	other := content
	other.PieceLength *= 2
	other.InfoHash = content.InfoHash // the same directory, another torrent's record
	e := acquire(t, c, other)
	if e.Hit() {
		t.Fatal("a record of another piece length is a hit")
	}
}

// The stable name is switched by renaming a new symlink over it: a reader polling it during
// many switches always finds one of the two copies, never nothing.
func TestLinkSwitchIsAtomic(t *testing.T) {
	c := newCache(t)
	a, b, name := fakeContent(0xaa), fakeContent(0xbb), mustName(t, "ns/switch")
	store(t, c, a, name)
	store(t, c, b, mustName(t, "ns/other"))
	link := filepath.Join(c.Root(), byNameDir, "ns", "switch", "data.bin")
	var stop atomic.Bool
	var misses, reads atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for !stop.Load() {
			if _, err := os.Stat(link); err != nil {
				misses.Add(1)
			}
			reads.Add(1)
		}
	})
	for i := range 500 {
		ih := a.hex()
		if i%2 == 0 {
			ih = b.hex()
		}
		if err := c.switchLink(name, ih); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if misses.Load() != 0 {
		t.Fatalf("the reader found no file %d times in %d reads during the switches", misses.Load(), reads.Load())
	}
	entries, _ := os.ReadDir(filepath.Join(c.Root(), byNameDir, "ns"))
	if len(entries) != 2 {
		t.Fatalf("by-name/ns holds %d entries, want the 2 links (no temporary left): %v", len(entries), entries)
	}
}

// An entry at a stable name that the cache did not make (a directory, a file, a symlink out of
// the cache, a namespace directory that is a symlink) is refused, not followed or replaced.
func TestForeignByNameEntriesAreRefused(t *testing.T) {
	outside := t.TempDir()
	for what, plant := range map[string]func(t *testing.T, nsDir string){
		"a directory": func(t *testing.T, nsDir string) { mkdir(t, filepath.Join(nsDir, "s")) },
		"a file": func(t *testing.T, nsDir string) {
			if err := os.WriteFile(filepath.Join(nsDir, "s"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"a symlink out": func(t *testing.T, nsDir string) { symlink(t, outside, filepath.Join(nsDir, "s")) },
		"a symlink to ../../content/../..": func(t *testing.T, nsDir string) {
			symlink(t, "../../content/../../x", filepath.Join(nsDir, "s"))
		},
		"a namespace symlink": func(t *testing.T, nsDir string) {
			if err := os.Remove(nsDir); err != nil {
				t.Fatal(err)
			}
			symlink(t, outside, nsDir)
		},
	} {
		t.Run(what, func(t *testing.T) {
			c := newCache(t)
			nsDir := filepath.Join(c.Root(), byNameDir, "ns")
			mkdir(t, nsDir)
			plant(t, nsDir)
			content := fakeContent(0x22)
			e := acquire(t, c, content)
			_ = os.WriteFile(e.Path(), []byte("hello"), 0o644)
			if err := e.Finish(mustName(t, "ns/s"), ""); err == nil {
				t.Fatal("Finish linked over a foreign entry")
			}
			if what != "a namespace symlink" { // Release of a name under a symlinked namespace: below
				if err := c.Release(mustName(t, "ns/s")); err == nil {
					t.Fatal("Release removed a foreign entry")
				}
			} else if err := c.Release(mustName(t, "ns/s")); err == nil {
				t.Fatal("Release went through a symlinked namespace")
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Fatalf("something was written outside the cache: %v", entries)
			}
		})
	}
}

// Release removes the name and nothing else (the copy stays for the clean-up), twice is fine,
// and a name of another namespace stays.
func TestReleaseRemovesOnlyTheLink(t *testing.T) {
	c := newCache(t)
	content := fakeContent(0x33)
	a, b := mustName(t, "ns/a"), mustName(t, "other/b")
	store(t, c, content, a)
	if err := c.switchLink(b, content.hex()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.Release(a); err != nil {
			t.Fatal(err)
		}
	}
	if exists(filepath.Join(c.Root(), byNameDir, "ns", "a")) {
		t.Fatal("the released name stays")
	}
	path, _ := c.contentPath(content.hex(), content.Name)
	if !exists(path) || !exists(filepath.Join(filepath.Dir(path), recordName)) {
		t.Fatal("Release removed the copy or its record")
	}
	if linkOf(t, c, b) != "../../content/"+content.hex() {
		t.Fatal("another name went")
	}
}

// The clean-up removes old copies no name links to, and keeps a linked one, one in use, a
// young one and whatever it did not name; a lock file without its directory goes too.
func TestGCKeepsReferencedLockedAndYoungCopies(t *testing.T) {
	c := newCache(t)
	referenced, unreferenced, locked, young := fakeContent(1), fakeContent(2), fakeContent(3), fakeContent(4)
	store(t, c, referenced, mustName(t, "ns/keep"))
	for i, content := range []Content{unreferenced, locked, young} {
		n := mustName(t, "ns/tmp"+string(rune('a'+i)))
		store(t, c, content, n)
		if err := c.Release(n); err != nil {
			t.Fatal(err)
		}
	}
	acquire(t, c, locked) // held, as by a seeding peer, until the test ends
	orphanLock, _ := c.lockPath(fakeContent(5).hex())
	if err := os.WriteFile(orphanLock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(c.Root(), contentDir, "not-a-hash")
	mkdir(t, foreign)

	// Age everything but the young copy by two hours.
	old := time.Now().Add(-2 * time.Hour)
	for _, content := range []Content{referenced, unreferenced, locked} {
		age(t, c, content, old)
	}
	_ = os.Chtimes(orphanLock, old, old)
	_ = os.Chtimes(foreign, old, old)

	res, err := c.GC(time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	gone := map[string]bool{}
	for _, ih := range res.Removed {
		gone[ih] = true
	}
	for _, w := range []struct {
		content Content
		removed bool
	}{{referenced, false}, {unreferenced, true}, {locked, false}, {young, false}} {
		content, removed := w.content, w.removed
		dir, _ := c.contentPath(content.hex())
		if gone[content.hex()] != removed || exists(dir) == removed {
			t.Errorf("content %x: removed %v (dir exists %v), want removed %v", content.InfoHash[0], gone[content.hex()], exists(dir), removed)
		}
	}
	if exists(orphanLock) || !gone[fakeContent(5).hex()] {
		t.Error("the orphan lock file stays")
	}
	if !exists(foreign) {
		t.Error("the clean-up removed a directory it did not name")
	}
	// The kept copies are still whole.
	for _, content := range []Content{referenced, locked, young} {
		if p, _ := c.contentPath(content.hex(), content.Name); !exists(p) {
			t.Errorf("content %x lost its file", content.InfoHash[0])
		}
	}
}

// age sets every time the clean-up reads of a content's copy to t0.
func age(t *testing.T, c *Cache, content Content, t0 time.Time) {
	t.Helper()
	dir, _ := c.contentPath(content.hex())
	lock, _ := c.lockPath(content.hex())
	rp := filepath.Join(dir, recordName)
	r, err := readRecord(rp)
	if err != nil {
		t.Fatal(err)
	}
	r.VerifiedAt = t0
	if err := writeRecord(rp, r); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, lock} {
		if err := os.Chtimes(p, t0, t0); err != nil {
			t.Fatal(err)
		}
	}
}

// A second peer of the same content waits while the first downloads it, then shares the
// verified copy as a hit.
func TestAcquireWaitsForTheDownloaderThenHits(t *testing.T) {
	c := newCache(t)
	content, name := fakeContent(0x44), mustName(t, "ns/s")
	first := acquire(t, c, content)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	if _, err := c.Acquire(ctx, quiet, content); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second Acquire during the download: %v, want it to wait", err)
	}
	cancel()
	got := make(chan *Entry, 1)
	go func() {
		e, err := c.Acquire(context.Background(), quiet, content)
		if err != nil {
			t.Error(err)
		}
		got <- e
	}()
	if err := os.WriteFile(first.Path(), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := first.Finish(name, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case second := <-got:
		defer func() { _ = second.Close() }()
		if second == nil || !second.Hit() {
			t.Fatal("the second peer did not share the verified copy")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the second peer still waits after the copy was verified")
	}
}

// Prepare creates the layout and gives it to the peers' uid (skipped unless root); it refuses
// a root that is relative, unclean or a symlink.
func TestPrepare(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "cache")
	const uid = 65532
	err := Prepare(root, uid)
	if os.Geteuid() != 0 {
		if err == nil || !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("Prepare as uid %d: %v, want a permission error", os.Geteuid(), err)
		}
		t.Skip("chown needs root")
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{root, filepath.Join(root, contentDir), filepath.Join(root, byNameDir)} {
		fi, err := os.Lstat(p)
		if err != nil || !fi.IsDir() {
			t.Fatalf("%s: %v", p, err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != uid || st.Gid != uid {
			t.Errorf("%s belongs to %d:%d, want %d", p, st.Uid, st.Gid, uid)
		}
	}
	symlink(t, root, filepath.Join(base, "link"))
	for _, bad := range []string{"cache", root + "/", filepath.Join(base, "x") + "/../cache", filepath.Join(base, "link")} {
		if Prepare(bad, uid) == nil {
			t.Errorf("Prepare(%q) = nil, want an error", bad)
		}
	}
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, p string) {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// The whole file's SHA-256, once checked, is recorded: a later start that wants the same one
// needs no hashing, one that wants another must check.
func TestRecordKeepsTheCheckedSHA256(t *testing.T) {
	c := newCache(t)
	content, name := fakeContent(0x55), mustName(t, "ns/s")
	store(t, c, content, name) // no SHA-256 checked
	const sum = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	e := acquire(t, c, content)
	if !e.Hit() || e.WantSHA256Done(sum) || !e.WantSHA256Done("") {
		t.Fatal("a record without a SHA-256 spared its check")
	}
	if err := e.Finish(name, sum); err != nil { // the session checked it
		t.Fatal(err)
	}
	_ = e.Close()
	e = acquire(t, c, content)
	if !e.Hit() || !e.WantSHA256Done(strings.ToUpper(sum)) || e.WantSHA256Done(strings.Repeat("0", 64)) {
		t.Fatalf("the recorded SHA-256 %q is not used", e.VerifiedSHA256())
	}
}

// Releasing a namespace's last name removes its directory; a peer linking another name of that
// namespace at the same moment makes the directory again instead of failing.
func TestLinkWhileAnotherNameIsReleased(t *testing.T) {
	c := newCache(t)
	a, b := fakeContent(0x66), fakeContent(0x77)
	store(t, c, a, mustName(t, "other/x"))
	store(t, c, b, mustName(t, "other/y"))
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() {
		for range 300 {
			if err := c.switchLink(mustName(t, "ns/a"), a.hex()); err != nil {
				errs <- err
				return
			}
			if err := c.Release(mustName(t, "ns/a")); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() {
		for range 300 {
			if err := c.switchLink(mustName(t, "ns/b"), b.hex()); err != nil {
				errs <- err
				return
			}
			if err := c.Release(mustName(t, "ns/b")); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A name whose Swarm never ran its clean-up (its namespace deleted at once) keeps its copy while
// a peer uses it or for StaleNameAge after the last use; then the name and the copy go.
func TestGCRemovesAStaleNameAndItsCopy(t *testing.T) {
	c := newCache(t)
	stale, fresh := fakeContent(6), fakeContent(7)
	staleName, freshName := mustName(t, "gone/weights"), mustName(t, "live/weights")
	store(t, c, stale, staleName)
	store(t, c, fresh, freshName)
	age(t, c, stale, time.Now().Add(-StaleNameAge-time.Hour))
	age(t, c, fresh, time.Now().Add(-2*time.Hour)) // older than the retention, but named

	res, err := c.GC(time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 1 || res.Removed[0] != stale.hex() {
		t.Fatalf("removed %v, want only the stale copy %s", res.Removed, stale.hex())
	}
	if _, err := os.Lstat(filepath.Join(c.Root(), byNameDir, "gone", "weights")); !os.IsNotExist(err) {
		t.Errorf("the stale name stays (%v)", err)
	}
	if linkOf(t, c, freshName) != "../../content/"+fresh.hex() {
		t.Error("a named copy within StaleNameAge lost its name")
	}
	if dir, _ := c.contentPath(fresh.hex()); !exists(dir) {
		t.Error("a named copy within StaleNameAge was removed")
	}
}
