package peertest

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
)

// TreeFiles is the directory Tree writes: sizes by slash path, for pieces of pieceLength
// bytes. It has nested directories, an empty file, files shorter than a piece, exactly a piece,
// longer than a piece, and two identical files (same seed and size).
func TreeFiles(pieceLength int64) map[string]int64 {
	return map[string]int64{
		"config.json":                     100,
		"empty":                           0,
		"shards/model-00001.bin":          3*pieceLength + 123,
		"shards/model-00002.bin":          3*pieceLength + 123, // identical to 00001
		"shards/exact.bin":                pieceLength,
		"tokenizer/deep/er/vocab.txt":     pieceLength/2 + 1,
		"tokenizer/deep/er/merges/empty2": 0,
	}
}

// Tree writes TreeFiles(pieceLength) with deterministic content into a fresh directory named
// name and returns its path and torrent (metainfo.CreateDir).
func Tree(t testing.TB, name string, pieceLength int64) (string, *metainfo.MetaInfo) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	for rel, size := range TreeFiles(pieceLength) {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := generate.WriteFile(path, uint64(size), size); err != nil { // seed by size: identical twins
			t.Fatal(err)
		}
	}
	meta, err := metainfo.CreateDir(dir, metainfo.CreateOptions{PieceLength: pieceLength})
	if err != nil {
		t.Fatal(err)
	}
	return dir, meta
}

// SameTree fails the test unless the directories want and got hold the same regular files
// (paths and bytes) and nothing else but directories.
func SameTree(t testing.TB, want, got string) {
	t.Helper()
	a, b := readTree(t, want), readTree(t, got)
	if len(a) != len(b) {
		t.Fatalf("%s holds %d files, %s %d", got, len(b), want, len(a))
	}
	for rel, data := range a {
		other, ok := b[rel]
		if !ok || !bytes.Equal(data, other) {
			t.Fatalf("%s: %s differs from %s (present %v)", rel, got, want, ok)
		}
	}
}

// readTree reads every regular file under dir by slash path; anything else fails the test.
func readTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := make(map[string][]byte)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			t.Fatalf("%s is a %v", path, d.Type())
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
