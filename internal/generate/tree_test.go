package generate

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestTreeLayoutSumsToTotal(t *testing.T) {
	for _, tc := range []struct {
		total int64
		files int
	}{{64 << 20, 8}, {100 << 30, 16}, {1000, 4}, {5 << 20, 1}} {
		layout := TreeLayout(tc.total, tc.files)
		var sum int64
		seen := map[string]bool{}
		for _, f := range layout {
			sum += f.Size
			if seen[f.Path] {
				t.Errorf("TreeLayout(%d, %d): %s twice", tc.total, tc.files, f.Path)
			}
			seen[f.Path] = true
		}
		if sum != tc.total {
			t.Errorf("TreeLayout(%d, %d) sums to %d", tc.total, tc.files, sum)
		}
		if want := max(tc.files, 4); len(layout) != want {
			t.Errorf("TreeLayout(%d, %d) has %d files, want %d", tc.total, tc.files, len(layout), want)
		}
	}
}

func TestTreeSHA256SeesEveryByteAndName(t *testing.T) {
	layout := TreeLayout(3<<20, 6)
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := WriteTree(dir, 7, layout, false); err != nil {
			t.Fatal(err)
		}
	}
	sumA, err := TreeSHA256(a)
	if err != nil {
		t.Fatal(err)
	}
	if sumB, _ := TreeSHA256(b); sumA != sumB {
		t.Fatalf("same layout and seed digest differently: %s vs %s", sumA, sumB)
	}
	shard := filepath.Join(b, filepath.FromSlash(layout[len(layout)-1].Path))
	f, err := os.OpenFile(shard, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff}, 10); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	if sumB, _ := TreeSHA256(b); sumA == sumB {
		t.Fatal("a changed byte left the digest unchanged")
	}
	if err := os.Rename(shard, shard+".renamed"); err != nil {
		t.Fatal(err)
	}
	if sumB, _ := TreeSHA256(b); sumA == sumB {
		t.Fatal("a renamed file left the digest unchanged")
	}
}

func TestWriteTreeSparseTakesNoBlocks(t *testing.T) {
	dir := t.TempDir()
	if err := WriteTree(dir, 1, TreeLayout(1<<30, 4), true); err != nil {
		t.Fatal(err)
	}
	var blocks int64
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			blocks += info.Sys().(*syscall.Stat_t).Blocks
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if blocks*512 > 1<<20 {
		t.Fatalf("a sparse 1 GiB tree takes %d bytes of disk", blocks*512)
	}
}

func TestPayloadDigestOfAFileIsItsSHA256(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.bin")
	if err := WriteFile(path, 3, 100000); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, NewReader(3, 100000)); err != nil {
		t.Fatal(err)
	}
	got, err := PayloadDigest(path)
	if err != nil || got != hex.EncodeToString(h.Sum(nil)) {
		t.Fatalf("PayloadDigest of a file = %s (%v), want its SHA-256", got, err)
	}
	tree, _ := TreeSHA256(filepath.Dir(path))
	if dir, _ := PayloadDigest(filepath.Dir(path)); dir != tree || dir == got {
		t.Fatalf("PayloadDigest of a directory = %s, want TreeSHA256 %s", dir, tree)
	}
}
