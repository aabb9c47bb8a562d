package peer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// pieceSpace is what the storage of a directory needs of a torrent: its v1 piece space and the
// check of one piece (*metainfo.MetaInfo).
type pieceSpace interface {
	NumPieces() int
	PieceLen(i int) int
	PieceOffset(i int) int64
	VerifyPiece(i int, data []byte) bool
}

// treeFile is one file of a multi-file torrent as its storage sees it.
type treeFile struct {
	rel    string // its path under the directory: the path elements joined by "/"
	length int64  // may be 0
}

// treeLayout is a multi-file torrent: its files, its pieces, and which file each piece holds
// (file, offset in it, bytes of file data; zero padding follows the data).
type treeLayout struct {
	files     []treeFile
	pieces    pieceSpace
	pieceFile func(i int) (file int, off int64, dataLen int)
}

// Limits of a layout checked again here (metainfo refuses worse torrents already; the storage
// does not rely on it).
const (
	maxTreeFiles = 100000
	maxTreeDepth = 64
	maxNameBytes = 255
)

// check refuses a layout that could not be written safely: a path that is not a plain relative
// path, two files at one path or a file that is also a directory, and pieces that do not cover
// every byte of every file exactly once, in order.
func (l treeLayout) check() error {
	if len(l.files) == 0 || len(l.files) > maxTreeFiles {
		return fmt.Errorf("storage: %d files, want 1 to %d", len(l.files), maxTreeFiles)
	}
	if err := checkPaths(l.files); err != nil {
		return err
	}
	next := make([]int64, len(l.files)) // each file's next byte to be covered by a piece
	last := -1                          // files must be covered in order
	for i := range l.pieces.NumPieces() {
		f, off, n := l.pieceFile(i)
		switch {
		case f < 0 || f >= len(l.files) || f < last:
			return fmt.Errorf("storage: piece %d maps to file %d out of order", i, f)
		case n <= 0 || n > l.pieces.PieceLen(i) || off != next[f] || off+int64(n) > l.files[f].length:
			return fmt.Errorf("storage: piece %d maps to bytes %d+%d of %q (%d bytes), want %d next",
				i, off, n, l.files[f].rel, l.files[f].length, next[f])
		}
		next[f] += int64(n)
		last = f
	}
	for f, tf := range l.files {
		if next[f] != tf.length {
			return fmt.Errorf("storage: pieces cover %d of the %d bytes of %q", next[f], tf.length, tf.rel)
		}
	}
	return nil
}

// checkPaths refuses a path that could leave the directory or clash with another.
func checkPaths(files []treeFile) error {
	seen := make(map[string]bool, len(files))
	dirs := make(map[string]bool)
	for _, tf := range files {
		if err := checkRel(tf.rel); err != nil {
			return err
		}
		if seen[tf.rel] || dirs[tf.rel] {
			return fmt.Errorf("storage: path %q is given twice or is also a directory", tf.rel)
		}
		seen[tf.rel] = true
		for d := parentDir(tf.rel); d != ""; d = parentDir(d) {
			if seen[d] {
				return fmt.Errorf("storage: path %q is a file and a directory", d)
			}
			dirs[d] = true
		}
	}
	return nil
}

// checkRel refuses anything but a plain relative path of at most maxTreeDepth elements.
func checkRel(rel string) error {
	elems := strings.Split(rel, "/")
	if len(elems) > maxTreeDepth {
		return fmt.Errorf("storage: path %q is deeper than %d", rel, maxTreeDepth)
	}
	for _, e := range elems {
		if err := checkElem(e); err != nil {
			return fmt.Errorf("storage: path %q: %w", rel, err)
		}
	}
	return nil
}

func checkElem(e string) error {
	switch {
	case e == "" || e == "." || e == "..":
		return fmt.Errorf("element %q is not a name", e)
	case len(e) > maxNameBytes:
		return fmt.Errorf("element is %d bytes long, more than %d", len(e), maxNameBytes)
	case strings.ContainsAny(e, "\\\x00"):
		return errors.New("element contains a backslash or NUL")
	}
	return nil
}

// parentDir is the directory part of a slash path ("" at the top).
func parentDir(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}

// treeLayoutOf is meta's layout when it is a multi-file torrent (ok false for a single file).
// The files' paths are joined with "/" once each element is checked (an element holding a "/"
// would otherwise pass as two).
func treeLayoutOf(meta *metainfo.MetaInfo) (lay treeLayout, ok bool, err error) {
	if !meta.MultiFile() {
		return treeLayout{}, false, nil
	}
	files := make([]treeFile, len(meta.Info.Files))
	for i, f := range meta.Info.Files {
		for _, e := range f.Path {
			if err := checkElem(e); err != nil || strings.Contains(e, "/") {
				return treeLayout{}, true, fmt.Errorf("storage: file %d: element %q is not a plain name", i, e)
			}
		}
		files[i] = treeFile{rel: strings.Join(f.Path, "/"), length: f.Length}
	}
	return treeLayout{files: files, pieces: meta, pieceFile: meta.PieceFile}, true, nil
}
