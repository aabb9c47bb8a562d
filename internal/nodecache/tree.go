package nodecache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// A directory's copy is trusted only when its tree has exactly the shape of the torrent: every
// file a regular file at its path, every directory one that holds a file, nothing else (no
// extra file, no symlink, no special file). The tree is read through an os.Root of the
// directory, one batch of names at a time, and never followed out of it.

// Limits of a directory's content, as metainfo refuses worse torrents (checked again here).
const (
	maxElemBytes = 255
	readBatch    = 256 // names read from a directory at a time
)

// ContentOf is the node cache's identity of a torrent's file or directory.
func ContentOf(meta *metainfo.MetaInfo) Content {
	c := Content{InfoHash: meta.InfoHashV1(), Name: meta.Info.Name, Size: meta.Info.Length, PieceLength: meta.Info.PieceLength}
	if !meta.MultiFile() {
		return c
	}
	c.Size = meta.PayloadBytes()
	c.Files = make([]File, len(meta.Info.Files))
	for i, f := range meta.Info.Files {
		c.Files[i] = File{Path: strings.Join(f.Path, "/"), Length: f.Length}
	}
	return c
}

// checkContent refuses a content whose name or files' paths could leave its directory, and a
// directory of more than metainfo.MaxFiles files or whose lengths do not add up to its size.
func checkContent(c Content) error {
	if err := checkFileName(c.Name); err != nil {
		return err
	}
	if len(c.Files) > metainfo.MaxFiles {
		return fmt.Errorf("node cache: %d files, more than %d", len(c.Files), metainfo.MaxFiles)
	}
	var total int64
	for _, f := range c.Files {
		if err := checkRelPath(f.Path); err != nil {
			return err
		}
		if f.Length < 0 {
			return fmt.Errorf("node cache: file %q has a negative length", f.Path)
		}
		total += f.Length
	}
	if c.isDir() && total != c.Size {
		return fmt.Errorf("node cache: the files hold %d bytes, the content %d", total, c.Size)
	}
	return nil
}

// checkRelPath refuses a path under a directory that is not plain: empty elements, "." or "..",
// a backslash or NUL, an element too long, or too deep.
func checkRelPath(rel string) error {
	elems := strings.Split(rel, "/")
	if len(elems) > metainfo.MaxPathDepth {
		return fmt.Errorf("node cache: path %q is deeper than %d", rel, metainfo.MaxPathDepth)
	}
	for _, e := range elems {
		if e == "" || e == "." || e == ".." || len(e) > maxElemBytes || strings.ContainsAny(e, "\\\x00") {
			return fmt.Errorf("node cache: path %q is not a plain relative path", rel)
		}
	}
	return nil
}

// shape is a directory's expected tree: each file's index by path, and the directories that
// hold files.
type shape struct {
	files map[string]int
	dirs  map[string]bool
}

func shapeOf(files []File) shape {
	s := shape{files: make(map[string]int, len(files)), dirs: make(map[string]bool)}
	for i, f := range files {
		s.files[f.Path] = i
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			s.dirs[d] = true
		}
	}
	return s
}

// visitFunc is called for each entry of a tree: its slash path, what it is, and whether the
// shape expects it (a directory that holds files, or a regular file at a file's path). An
// unexpected directory is not entered.
type visitFunc func(rel string, d fs.DirEntry, expected bool) error

// walk calls visit for every entry under the directory rel of root, depth first.
func (s shape) walk(root *os.Root, rel string, visit visitFunc) error {
	d, err := root.Open(rel)
	if err != nil {
		return fmt.Errorf("node cache: %w", err)
	}
	defer func() { _ = d.Close() }()
	for {
		entries, err := d.ReadDir(readBatch)
		for _, e := range entries {
			child := e.Name()
			if rel != "." {
				child = rel + "/" + e.Name()
			}
			if err := s.visit(root, child, e, visit); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && len(entries) == 0) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("node cache: read %s: %w", rel, err)
		}
	}
}

// visit calls visit for one entry, and walks into it when it is an expected directory.
func (s shape) visit(root *os.Root, rel string, e fs.DirEntry, visit visitFunc) error {
	_, isFile := s.files[rel]
	switch {
	case e.Type().IsDir() && s.dirs[rel]:
		if err := visit(rel, e, true); err != nil {
			return err
		}
		return s.walk(root, rel, visit)
	case e.Type().IsRegular() && isFile:
		return visit(rel, e, true)
	}
	return visit(rel, e, false)
}

// openTree opens the directory dir as an os.Root; dir itself must be a directory, not a symlink.
func openTree(dir string) (*os.Root, error) {
	if err := realDir(dir); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("node cache: %w", err)
	}
	return root, nil
}

// scanTree returns the identity of each of files under dir (by index), or an error when the
// tree does not have exactly their shape: a file missing, an extra entry, or anything but a
// regular file at a file's path.
func scanTree(dir string, files []File) ([]fileID, error) {
	root, err := openTree(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = root.Close() }()
	s := shapeOf(files)
	ids := make([]fileID, len(files))
	seen := 0
	err = s.walk(root, ".", func(rel string, d fs.DirEntry, expected bool) error {
		if !expected {
			return fmt.Errorf("node cache: %s/%s is a %v the torrent does not hold", dir, rel, typeName(d.Type()))
		}
		if d.IsDir() {
			return nil
		}
		fi, err := root.Lstat(rel)
		if err != nil {
			return fmt.Errorf("node cache: %w", err)
		}
		ids[s.files[rel]] = idOf(fi)
		seen++
		return nil
	})
	if err == nil && seen != len(files) {
		err = fmt.Errorf("node cache: %s holds %d of the torrent's %d files", dir, seen, len(files))
	}
	return ids, err
}

// pruneTree removes from the directory dir every entry the shape of files does not expect (an
// extra file, a symlink, a special file, an unexpected directory with all it holds), so that
// the copy verified again has only the torrent's files. Symlinks are removed, never followed.
func pruneTree(dir string, files []File) error {
	root, err := openTree(dir)
	if err != nil {
		return err
	}
	defer func() { _ = root.Close() }()
	return shapeOf(files).walk(root, ".", func(rel string, _ fs.DirEntry, expected bool) error {
		if expected {
			return nil
		}
		if err := root.RemoveAll(rel); err != nil {
			return fmt.Errorf("node cache: remove %s/%s, not in the torrent: %w", dir, rel, err)
		}
		return nil
	})
}

// typeName names a directory entry's type for an error.
func typeName(t fs.FileMode) string {
	switch {
	case t.IsRegular():
		return "file"
	case t.IsDir():
		return "directory"
	case t&fs.ModeSymlink != 0:
		return "symlink"
	}
	return "special file (" + t.String() + ")"
}
