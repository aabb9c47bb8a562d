package nodecache

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dirContent is a directory "model" of three files (one empty, one nested) with the info-hash
// b repeated.
func dirContent(b byte) Content {
	c := fakeContent(b)
	c.Name = "model"
	c.Files = []File{{Path: "config.json", Length: 5}, {Path: "empty", Length: 0}, {Path: "shards/a/x.bin", Length: 7}}
	c.Size = 12
	return c
}

// storeDir writes content's files into a fresh entry as a session would, records and links it.
// It returns the directory's path.
func storeDir(t *testing.T, c *Cache, content Content, name Name) string {
	t.Helper()
	e := acquire(t, c, content)
	defer func() { _ = e.Close() }()
	if e.Hit() {
		t.Fatal("a fresh content is a hit")
	}
	for _, f := range content.Files {
		p := filepath.Join(e.Path(), filepath.FromSlash(f.Path))
		mkdir(t, filepath.Dir(p))
		if err := os.WriteFile(p, []byte(strings.Repeat("d", int(f.Length))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Finish(name, ""); err != nil {
		t.Fatal(err)
	}
	return e.Path()
}

// hitOf acquires content and reports whether it is a hit, releasing it at once.
func hitOf(t *testing.T, c *Cache, content Content) bool {
	t.Helper()
	e := acquire(t, c, content)
	defer func() { _ = e.Close() }()
	return e.Hit()
}

// A directory's record lists every file; the unchanged tree is a hit, read through the stable
// name; the record's files are in the torrent's order.
func TestDirectoryRecordAndHit(t *testing.T) {
	c := newCache(t)
	content, name := dirContent(0x21), mustName(t, "gpu/llama")
	storeDir(t, c, content, name)
	data, err := os.ReadFile(filepath.Join(c.Root(), byNameDir, "gpu", "llama", "model", "shards", "a", "x.bin"))
	if err != nil || string(data) != "ddddddd" {
		t.Fatalf("reading through the stable path: %q, %v", data, err)
	}
	r, err := readRecordLimit(filepath.Join(c.Root(), contentDir, content.hex(), recordName), recordLimit(content))
	if err != nil || len(r.Files) != 3 || r.Files[2].Path != "shards/a/x.bin" || r.Files[2].Size != 7 || r.Files[2].Inode == 0 || r.Size != 12 {
		t.Fatalf("record %+v, %v", r, err)
	}
	if !hitOf(t, c, content) {
		t.Fatal("the unchanged directory is not a hit")
	}
}

// Each change to a recorded directory makes it a miss: a file modified in place (same size),
// rewritten with its old mtime set back, replaced, added, removed; an empty directory added; a
// symlink, a FIFO or a directory where a file belongs; a symlink to a directory outside in place
// of a directory. After the miss, what the torrent does not hold is gone, the torrent's files
// that stand are kept for the session to verify, and nothing outside was touched.
func TestDirectoryChangesAreMisses(t *testing.T) {
	for what, change := range map[string]func(t *testing.T, dir, outside string){
		"modified in place": func(t *testing.T, dir, _ string) {
			afterTick(t, filepath.Join(dir, "shards", "a", "x.bin"))
			f, err := os.OpenFile(filepath.Join(dir, "shards", "a", "x.bin"), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.WriteAt([]byte("X"), 3)
			_ = f.Close()
			if err != nil {
				t.Fatal(err)
			}
		},
		"rewritten, mtime set back": func(t *testing.T, dir, _ string) {
			p := filepath.Join(dir, "config.json")
			fi, _ := os.Stat(p)
			afterTick(t, p)
			if err := os.WriteFile(p, []byte("ddddX"), 0o644); err != nil {
				t.Fatal(err)
			}
			_ = os.Chtimes(p, fi.ModTime(), fi.ModTime())
		},
		"replaced": func(t *testing.T, dir, _ string) {
			p := filepath.Join(dir, "config.json")
			writeFile(t, p+".new", "ddddd")
			if err := os.Rename(p+".new", p); err != nil {
				t.Fatal(err)
			}
		},
		"file added":      func(t *testing.T, dir, _ string) { writeFile(t, filepath.Join(dir, "shards", "extra"), "x") },
		"dot file added":  func(t *testing.T, dir, _ string) { writeFile(t, filepath.Join(dir, ".hidden"), "x") },
		"empty dir added": func(t *testing.T, dir, _ string) { mkdir(t, filepath.Join(dir, "shards", "new")) },
		"file removed": func(t *testing.T, dir, _ string) {
			if err := os.Remove(filepath.Join(dir, "empty")); err != nil {
				t.Fatal(err)
			}
		},
		"symlink added, pointing outside": func(t *testing.T, dir, outside string) {
			symlink(t, outside, filepath.Join(dir, "shards", "a", "evil"))
		},
		"symlink instead of a file": func(t *testing.T, dir, outside string) {
			p := filepath.Join(dir, "config.json")
			_ = os.Remove(p)
			symlink(t, filepath.Join(outside, "secret"), p)
		},
		"symlink instead of a directory": func(t *testing.T, dir, outside string) {
			p := filepath.Join(dir, "shards", "a")
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
			mkdir(t, filepath.Join(outside, "a"))
			writeFile(t, filepath.Join(outside, "a", "x.bin"), "ddddddd")
			symlink(t, filepath.Join(outside, "a"), p)
		},
		"directory instead of a file": func(t *testing.T, dir, _ string) {
			p := filepath.Join(dir, "empty")
			_ = os.Remove(p)
			mkdir(t, p)
			writeFile(t, filepath.Join(p, "inside"), "x")
		},
		"FIFO added": func(t *testing.T, dir, _ string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "shards", "fifo"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(what, func(t *testing.T) {
			c := newCache(t)
			content := dirContent(0x22)
			dir := storeDir(t, c, content, mustName(t, "ns/s"))
			outside := t.TempDir()
			writeFile(t, filepath.Join(outside, "secret"), "keep me")
			change(t, dir, outside)
			e := acquire(t, c, content)
			if e.Hit() {
				t.Fatal("the changed directory is a hit")
			}
			reason := e.MissReason()
			if reason == "" || (strings.HasPrefix(what, "symlink added") || strings.HasPrefix(what, "FIFO")) &&
				!strings.Contains(reason, "the torrent does not hold") {
				t.Errorf("miss reason %q", reason)
			}
			t.Logf("miss reason: %s", reason)
			_ = e.Close()
			assertOnlyTorrentEntries(t, dir, content)
			assertOutsideUntouched(t, outside)
		})
	}
}

// assertOnlyTorrentEntries fails unless dir holds nothing the torrent does not (regular files at
// the files' paths, directories that hold them).
func assertOnlyTorrentEntries(t *testing.T, dir string, content Content) {
	t.Helper()
	s := shapeOf(content.Files)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		_, isFile := s.files[rel]
		expected := (d.Type().IsRegular() && isFile) || (d.IsDir() && s.dirs[rel])
		if !expected {
			t.Errorf("after the miss, %s (%v) stays", rel, d.Type())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// assertOutsideUntouched fails unless the directory outside the cache still holds its secret.
func assertOutsideUntouched(t *testing.T, outside string) {
	t.Helper()
	if data, err := os.ReadFile(filepath.Join(outside, "secret")); err != nil || string(data) != "keep me" {
		t.Fatalf("the file outside the cache: %q, %v", data, err)
	}
}

// afterTick waits until a change made now gives a file a change time (ctime) other than p's:
// the file system's clock has ticked since p was written (polled, not a fixed sleep).
func afterTick(t *testing.T, p string) {
	t.Helper()
	was, err := statFile(p)
	if err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(filepath.Dir(p), "..tick")
	defer func() { _ = os.Remove(probe) }()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		writeFile(t, probe, "")
		if id, err := statFile(probe); err == nil && id.ctimeNano > was.ctimeNano {
			return
		}
	}
	t.Fatal("the file system's clock did not tick in 10s")
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The clean-up and the preparation never follow a symlink planted in a directory's copy: gc
// removes the copy and the link itself; prepare gives the link itself to the uid, never its
// target.
func TestGCAndPrepareDoNotFollowSymlinksInADirectory(t *testing.T) {
	c := newCache(t)
	content := dirContent(0x23)
	dir := storeDir(t, c, content, mustName(t, "ns/s"))
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret"), "keep me")
	symlink(t, outside, filepath.Join(dir, "shards", "out"))
	symlink(t, filepath.Join(outside, "secret"), filepath.Join(dir, "shards", "a", "file-out"))
	before, _ := os.Lstat(filepath.Join(outside, "secret"))

	if err := Prepare(c.Root(), os.Getuid()); err != nil {
		t.Fatal(err)
	}
	if err := c.Release(mustName(t, "ns/s")); err != nil {
		t.Fatal(err)
	}
	res, err := c.GC(time.Now().Add(time.Hour), 0)
	if err != nil || len(res.Removed) != 1 {
		t.Fatalf("gc: %+v, %v", res, err)
	}
	if exists(filepath.Dir(dir)) {
		t.Fatal("the clean-up kept the directory's copy")
	}
	assertOutsideUntouched(t, outside)
	after, _ := os.Lstat(filepath.Join(outside, "secret"))
	if !after.ModTime().Equal(before.ModTime()) {
		t.Fatal("prepare or gc touched the file outside")
	}
}

// Finish records only the torrent's exact tree and refuses a whole-file SHA-256 for a directory.
func TestFinishRefusesAnUnexpectedTreeOrASHA256(t *testing.T) {
	c := newCache(t)
	content := dirContent(0x24)
	e := acquire(t, c, content)
	for _, f := range content.Files {
		p := filepath.Join(e.Path(), filepath.FromSlash(f.Path))
		mkdir(t, filepath.Dir(p))
		writeFile(t, p, strings.Repeat("d", int(f.Length)))
	}
	if err := e.Finish(mustName(t, "ns/s"), strings.Repeat("a", 64)); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("Finish with a SHA-256 of a directory: %v", err)
	}
	writeFile(t, filepath.Join(e.Path(), "shards", "a", "x.bin"), "short")
	if err := e.Finish(mustName(t, "ns/s"), ""); err == nil {
		t.Fatal("Finish recorded a file of the wrong length")
	}
	writeFile(t, filepath.Join(e.Path(), "shards", "a", "x.bin"), "ddddddd")
	writeFile(t, filepath.Join(e.Path(), "planted"), "x")
	if err := e.Finish(mustName(t, "ns/s"), ""); err == nil {
		t.Fatal("Finish recorded a tree with an extra file")
	}
	if exists(filepath.Join(c.Root(), contentDir, content.hex(), recordName)) {
		t.Fatal("a record was written for a tree that is not the torrent's")
	}
}

// Hostile contents are refused before anything is created: a path that leaves the directory or
// is not plain, lengths that do not add up.
func TestHostileDirectoryContentsAreRefused(t *testing.T) {
	c := newCache(t)
	for _, p := range []string{"../x", "a/../../x", "/abs", "a//b", "a/./b", "", "a\\b", "a/\x00", strings.Repeat("d/", 65) + "f", strings.Repeat("n", 256)} {
		content := dirContent(0x25)
		content.Files[0].Path = p
		if e, err := c.Acquire(t.Context(), quiet, content); err == nil {
			_ = e.Close()
			t.Errorf("path %q accepted", p)
		}
	}
	content := dirContent(0x25)
	content.Size++
	if _, err := c.Acquire(t.Context(), quiet, content); err == nil {
		t.Error("a size that is not the files' sum accepted")
	}
	if exists(filepath.Join(c.Root(), contentDir, content.hex())) {
		t.Error("a refused content created its directory")
	}
}

// Records are read within bounds: a directory's record larger than its content's limit, or one
// of a single file larger than 64 KiB, is a miss; the clean-up reads only a record's head.
func TestOversizedRecordsAreMisses(t *testing.T) {
	c := newCache(t)
	content := dirContent(0x26)
	storeDir(t, c, content, mustName(t, "ns/s"))
	recordPath := filepath.Join(c.Root(), contentDir, content.hex(), recordName)
	r, err := readRecordLimit(recordPath, recordLimit(content))
	if err != nil {
		t.Fatal(err)
	}
	r.Files[0].Path = "config.json" + strings.Repeat(" ", int(recordLimit(content))) // a record padded past its limit
	data, _ := json.Marshal(r)
	if err := os.WriteFile(recordPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if at, err := readVerifiedAt(recordPath); err != nil || !at.Equal(r.VerifiedAt) {
		t.Fatalf("the clean-up's read of the verification time: %v, %v; want %v", at, err, r.VerifiedAt)
	}
	if hitOf(t, c, content) {
		t.Fatal("an oversized record is a hit")
	}
}

// A single file's record is byte for byte what it was before directories: an old record still
// hits, and a new one has no "files".
func TestSingleFileRecordsAreUnchanged(t *testing.T) {
	c := newCache(t)
	content, name := fakeContent(0x27), mustName(t, "ns/s")
	store(t, c, content, name)
	recordPath := filepath.Join(c.Root(), contentDir, content.hex(), recordName)
	data, _ := os.ReadFile(recordPath)
	if strings.Contains(string(data), "files") {
		t.Fatalf("a single file's record lists files: %s", data)
	}
	id, _ := statFile(filepath.Join(c.Root(), contentDir, content.hex(), content.Name))
	old := `{
  "infoHash": "` + content.hex() + `",
  "name": "data.bin",
  "size": 5,
  "pieceLength": 16384,
  "mtimeUnixNano": ` + itoa(id.mtimeNano) + `,
  "ctimeUnixNano": ` + itoa(id.ctimeNano) + `,
  "inode": ` + itoa(int64(id.inode)) + `,
  "verifiedAt": "2026-01-02T03:04:05Z"
}
`
	if err := os.WriteFile(recordPath, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if !hitOf(t, c, content) {
		t.Fatal("an old single-file record is not a hit")
	}
	r, _ := readRecord(recordPath)
	if again, _ := json.MarshalIndent(r, "", "  "); string(again)+"\n" != old {
		t.Fatalf("the record encodes as\n%s\nwas\n%s", again, old)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
