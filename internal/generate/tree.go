package generate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// TreeFile is one file of a generated directory tree: its slash-separated path under the tree's
// root and its size.
type TreeFile struct {
	Path string
	Size int64
}

// TreeLayout lays total bytes out as a model-like directory of files entries: shards of the
// payload under "shards/" (the last one short), a small "config.json", an empty "README.empty"
// and a "tokenizer/vocab.txt" of a few KiB, so that a tree has nested directories, a zero-length
// file and files both smaller and larger than a piece. The layout depends only on its
// arguments; files is at least 4 and the small files take at most 1% of total.
func TreeLayout(total int64, files int) []TreeFile {
	files = max(files, 4)
	small := min(total/100, 4<<10)
	layout := []TreeFile{
		{Path: "README.empty", Size: 0},
		{Path: "config.json", Size: small / 2},
		{Path: "tokenizer/vocab.txt", Size: small - small/2},
	}
	shards := files - len(layout)
	rest := total - small
	each := (rest + int64(shards) - 1) / int64(shards)
	for i := range shards {
		size := min(each, rest)
		rest -= size
		layout = append(layout, TreeFile{
			Path: fmt.Sprintf("shards/model-%05d-of-%05d.bin", i+1, shards),
			Size: size,
		})
	}
	return layout
}

// WriteTree writes layout under dir: each file's content is seed's stream for (seed + its
// index), so that no two files are alike, unless sparse is set: then every file is a hole of
// its size (all zeros, no disk blocks), for payloads larger than the disk.
func WriteTree(dir string, seed uint64, layout []TreeFile, sparse bool) error {
	for i, f := range layout {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		var err error
		if sparse {
			err = writeHole(path, f.Size)
		} else {
			err = WriteFile(path, seed+uint64(i), f.Size)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeHole creates path as a sparse file of size bytes.
func writeHole(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if err := f.Truncate(size); err != nil {
		_ = f.Close()
		return fmt.Errorf("generate: %w", err)
	}
	return f.Close()
}

// TreeSHA256 digests a directory tree independently of any torrent: the SHA-256 of the sorted
// lines "<sha256 of the file> <size> <slash path>" of every regular file under dir. Two trees
// have the same digest exactly when they hold the same files with the same bytes. A path that
// is a single file digests as a tree of that one file named by its base name.
func TreeSHA256(dir string) (string, error) {
	var lines []string
	root := dir
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("generate: %s is not a regular file", path)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if rel == "." {
			rel = filepath.Base(path)
		}
		sum, size, err := fileDigest(path)
		if err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%s %d %s\n", sum, size, filepath.ToSlash(rel)))
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		_, _ = io.WriteString(h, l)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// PayloadDigest is the digest a copy of a payload is checked against, independently of any
// torrent: a file's SHA-256, or TreeSHA256 of a directory (both in hex).
func PayloadDigest(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if info.IsDir() {
		return TreeSHA256(path)
	}
	sum, _, err := fileDigest(path)
	return sum, err
}

// fileDigest is the SHA-256 (hex) and size of the file at path.
func fileDigest(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, make([]byte, copyBufferSize))
	if err != nil {
		return "", 0, fmt.Errorf("generate: reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
