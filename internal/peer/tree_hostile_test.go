package peer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// hostileSetup makes a download directory <dir>/model.part by plant (given the .part path and
// a directory outside the tree) and returns the final path and the outside directory.
func hostileSetup(t *testing.T, plant func(part, outside string)) (final, outside string) {
	t.Helper()
	base := t.TempDir()
	final, outside = filepath.Join(base, "model"), filepath.Join(base, "outside")
	for _, d := range []string{final + partSuffix, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	plant(final+partSuffix, outside)
	return final, outside
}

// assertOutsideUntouched fails unless the outside directory holds only its "secret", unchanged.
func assertOutsideUntouched(t *testing.T, outside string) {
	t.Helper()
	entries, err := os.ReadDir(outside)
	if err != nil || len(entries) != 1 {
		t.Fatalf("outside holds %v (%v), want only its secret", entries, err)
	}
	if b, err := os.ReadFile(filepath.Join(outside, "secret")); err != nil || string(b) != "keep" {
		t.Fatalf("outside's secret is %q (%v)", b, err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// A .part tree planted with symlinks, or with the wrong kind of entry where a file or a
// directory belongs, is refused with a clear error and nothing outside it is touched.
func TestTreePartRefusesPlantedEntries(t *testing.T) {
	cases := []struct {
		name, want string
		plant      func(t *testing.T, part, outside string)
	}{
		{"directory symlink outside", "not a directory", func(t *testing.T, part, outside string) {
			symlink(t, outside, filepath.Join(part, "a"))
		}},
		{"deep directory symlink outside", "not a directory", func(t *testing.T, part, outside string) {
			symlink(t, outside, filepath.Join(part, "d", "e", "f"))
		}},
		{"relative symlink escaping", "not a directory", func(t *testing.T, part, outside string) {
			symlink(t, "../../outside", filepath.Join(part, "a", "b"))
		}},
		{"file symlink outside", "not a regular file", func(t *testing.T, part, outside string) {
			symlink(t, filepath.Join(outside, "secret"), filepath.Join(part, "c.txt"))
		}},
		{"file symlink inside the tree", "not a regular file", func(t *testing.T, part, outside string) {
			symlink(t, "big.bin", filepath.Join(part, "a", "b", "same.bin"))
		}},
		{"dangling symlink", "not a regular file", func(t *testing.T, part, outside string) {
			symlink(t, filepath.Join(outside, "new"), filepath.Join(part, "c.txt"))
		}},
		{"file where a directory belongs", "not a directory", func(t *testing.T, part, outside string) {
			if err := os.WriteFile(filepath.Join(part, "a"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"directory where a file belongs", "not a regular file", func(t *testing.T, part, outside string) {
			if err := os.MkdirAll(filepath.Join(part, "c.txt"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"fifo where a file belongs", "not a regular file", func(t *testing.T, part, outside string) {
			if err := syscall.Mkfifo(filepath.Join(part, "c.txt"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ft := sampleTree(16 << 10)
			final, outside := hostileSetup(t, func(part, outside string) { tc.plant(t, part, outside) })
			st, _, err := ft.open(t, final, false, false)
			if err == nil {
				_ = st.Close()
				t.Fatal("a planted .part tree was opened")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %q, want it to say %q", err, tc.want)
			}
			assertOutsideUntouched(t, outside)
		})
	}
}

// The .part directory or the final directory being a symlink (to a tree outside) is refused,
// for a leecher and a seeder.
func TestTreeRefusesSymlinkedTopDirectory(t *testing.T) {
	ft := sampleTree(16 << 10)
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(base, "model"+partSuffix)
	symlink(t, outside, part)
	if _, _, err := ft.open(t, filepath.Join(base, "model"), false, false); err == nil ||
		!strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("a symlinked .part: %v", err)
	}
	// A complete tree elsewhere, linked at the final name.
	real := filepath.Join(base, "real")
	ft.finished(t, real)
	linked := filepath.Join(base, "linked")
	symlink(t, real, linked)
	for _, seed := range []bool{true, false} {
		if _, _, err := ft.open(t, linked, seed, true); err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Fatalf("seed %v of a symlinked final directory: %v", seed, err)
		}
	}
	if !fileExists(real) {
		t.Fatal("the linked tree was moved")
	}
}

// A seeded directory with a symlink where a file belongs (even one whose target has the right
// bytes) is refused: the torrent was made of regular files only.
func TestTreeSeedRefusesSymlinks(t *testing.T) {
	ft := sampleTree(16 << 10)
	dir := filepath.Join(t.TempDir(), "model")
	ft.finished(t, dir)
	copyOf := filepath.Join(t.TempDir(), "copy")
	if err := os.WriteFile(copyOf, ft.data["c.txt"], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "c.txt")); err != nil {
		t.Fatal(err)
	}
	symlink(t, copyOf, filepath.Join(dir, "c.txt"))
	if _, _, err := ft.open(t, dir, true, true); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("seeding through a symlink: %v", err)
	}
}

// Names metainfo refuses are refused by the storage's own check too.
func TestTreeLayoutRefusesHostileNames(t *testing.T) {
	bad := [][]string{
		{"../escape"}, {"a/../../escape"}, {"/etc/passwd"}, {"a//b"}, {"a/./b"}, {"."}, {""},
		{"a\\..\\b"}, {"a\x00b"}, {"a/"}, {strings.Repeat("x", 256)},
		{strings.Repeat("d/", 64) + "f"},
		{"same", "same"}, {"a", "a/b"}, {"a/b/c", "a/b"},
	}
	for _, paths := range bad {
		contents := make([][]byte, len(paths))
		for i := range contents {
			contents[i] = []byte("content")
		}
		ft := newFakeTree(16<<10, paths, contents)
		if err := ft.lay.check(); err == nil {
			t.Errorf("paths %q were accepted", paths)
		}
	}
	ok := newFakeTree(16<<10, []string{"a/b", "a.b", "a/c", strings.Repeat("x", 255)},
		[][]byte{{1}, {2}, {3}, {4}})
	if err := ok.lay.check(); err != nil {
		t.Fatalf("plain paths refused: %v", err)
	}
}

// Past the checks (defence in depth): os.Root alone keeps an escaping name inside the tree.
func TestTreeRootContainsEscapingNames(t *testing.T) {
	for _, rel := range []string{"../escape", "a/../../escape", "/tmp/minibit-escape-test"} {
		ft := newFakeTree(16<<10, []string{rel}, [][]byte{[]byte("content")})
		final, outside := hostileSetup(t, func(string, string) {})
		if err := ft.lay.check(); err == nil {
			t.Fatalf("%q passed the check", rel)
		}
		tr, _, err := openTreePart(ft.lay, final+partSuffix) // no check
		if err == nil {
			_ = tr.close()
			t.Fatalf("%q was opened", rel)
		}
		assertOutsideUntouched(t, outside)
		if fileExists(filepath.Join(filepath.Dir(final), "escape")) || fileExists("/tmp/minibit-escape-test") {
			t.Fatalf("%q made a file outside the tree", rel)
		}
	}
}

// Pieces that do not cover every byte of every file once, in order, are refused: a torrent
// whose pieces overlap nothing of a file, or overlap each other, or run past a file's end.
func TestTreeLayoutRefusesBadPieceMaps(t *testing.T) {
	mk := func(refs []pieceRef) treeLayout {
		ft := newFakeTree(16<<10, []string{"x", "y"}, [][]byte{make([]byte, 20000), make([]byte, 100)})
		ft.lay.pieceFile = func(i int) (int, int64, int) { r := refs[i]; return r.file, r.off, r.n }
		return ft.lay
	}
	good := []pieceRef{{0, 0, 16 << 10}, {0, 16 << 10, 20000 - 16<<10}, {1, 0, 100}}
	if err := mk(good).check(); err != nil {
		t.Fatalf("the right map refused: %v", err)
	}
	for name, refs := range map[string][]pieceRef{
		"a file no piece covers": {{0, 0, 16 << 10}, {0, 16 << 10, 20000 - 16<<10}, {0, 20000, 0}},
		"a gap":                  {{0, 0, 16 << 10}, {0, 16<<10 + 1, 20000 - 16<<10 - 1}, {1, 0, 100}},
		"an overlap":             {{0, 0, 16 << 10}, {0, 16<<10 - 1, 20000 - 16<<10}, {1, 0, 100}},
		"past the end":           {{0, 0, 16 << 10}, {0, 16 << 10, 20000 - 16<<10}, {1, 0, 101}},
		"backwards":              {{1, 0, 100}, {0, 0, 16 << 10}, {0, 16 << 10, 20000 - 16<<10}},
		"no such file":           {{0, 0, 16 << 10}, {0, 16 << 10, 20000 - 16<<10}, {2, 0, 100}},
		"more than the piece":    {{0, 0, 16<<10 + 1}, {0, 16<<10 + 1, 20000 - 16<<10 - 1}, {1, 0, 100}},
	} {
		if err := mk(refs).check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Reads of padding are zeros whatever the disk holds past a file's end.
func TestTreePaddingReadsAsZeros(t *testing.T) {
	ft := newFakeTree(16<<10, []string{"a", "b"}, [][]byte{bytes.Repeat([]byte{7}, 100), {9}})
	st, _ := ft.mustOpen(t, filepath.Join(t.TempDir(), "m"), false)
	ft.writeAll(t, st)
	got := make([]byte, 16<<10+1)
	if err := st.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	want := append(append(bytes.Repeat([]byte{7}, 100), make([]byte, 16<<10-100)...), 9)
	if !bytes.Equal(got, want) {
		t.Fatal("padding did not read as zeros")
	}
	if info, err := os.Stat(filepath.Join(st.path+partSuffix, "a")); err != nil || info.Size() != 100 {
		t.Fatalf("file a: %v, %v: the padding was written", info, err)
	}
	if err := st.ReadAt(make([]byte, 2), 16<<10); err == nil {
		t.Fatal("a read past the torrent's end succeeded")
	}
}

// A symlink planted while the download runs, after the start's checks, still cannot take a
// write outside: the files are opened through os.Root.
func TestTreeRootStopsSymlinkPlantedMidDownload(t *testing.T) {
	ft := sampleTree(16 << 10)
	final, outside := hostileSetup(t, func(string, string) {})
	st, _ := ft.mustOpen(t, final, false)
	ft.writeAll(t, st)
	part := final + partSuffix
	if err := os.Rename(filepath.Join(part, "a"), filepath.Join(part, "moved")); err != nil {
		t.Fatal(err)
	}
	symlink(t, outside, filepath.Join(part, "a")) // finish creates a/empty
	if err := st.finish(); err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("finish through a planted symlink: %v", err)
	}
	assertOutsideUntouched(t, outside)
	if fileExists(final) {
		t.Fatal("the tree was renamed into place")
	}
}
