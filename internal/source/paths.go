package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

const (
	maxNameBytes = 255  // one path element
	maxPathBytes = 4096 // a whole relative path
	maxDepth     = 64   // path elements
)

// checkName refuses a file name an origin could use to escape or confuse the target directory.
func checkName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("invalid name %q", name)
	case strings.ContainsAny(name, "/\\\x00"):
		return fmt.Errorf("invalid name %q: contains '/', '\\' or NUL", name)
	case len(name) > maxNameBytes:
		return fmt.Errorf("invalid name %.40q...: longer than %d bytes", name, maxNameBytes)
	}
	return nil
}

// checkRelPath refuses a relative slash path that is absolute, empty, too deep or too long, or
// has an element checkName refuses ("", ".", ".." included).
func checkRelPath(p string) error {
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("invalid path %q: absolute", p)
	}
	if len(p) > maxPathBytes {
		return fmt.Errorf("invalid path %.40q...: longer than %d bytes", p, maxPathBytes)
	}
	elems := strings.Split(p, "/")
	if len(elems) > maxDepth {
		return fmt.Errorf("invalid path %.40q...: deeper than %d", p, maxDepth)
	}
	for _, e := range elems {
		if err := checkName(e); err != nil {
			return fmt.Errorf("invalid path %q: %w", p, err)
		}
	}
	return nil
}

// checkTree checks every path and refuses a path given twice, a path that is also a directory
// of another, and more than MaxFiles paths.
func checkTree(paths []string) error {
	if len(paths) > MaxFiles {
		return fmt.Errorf("%d files, more than the limit of %d", len(paths), MaxFiles)
	}
	sorted := slices.Clone(paths)
	slices.Sort(sorted)
	for i, p := range sorted {
		if err := checkRelPath(p); err != nil {
			return err
		}
		if i == 0 {
			continue
		}
		if prev := sorted[i-1]; prev == p {
			return fmt.Errorf("the path %q is given twice", p)
		}
	}
	return checkNoFileIsDir(sorted)
}

// checkNoFileIsDir refuses a path that is a directory prefix of another (sorted: "a" and "a/b").
func checkNoFileIsDir(sorted []string) error {
	for _, p := range sorted {
		i, _ := slices.BinarySearch(sorted, p+"/")
		if i < len(sorted) && strings.HasPrefix(sorted[i], p+"/") {
			return fmt.Errorf("the path %q is both a file and the directory of %q", p, sorted[i])
		}
	}
	return nil
}

// checkDestAbsent refuses a dest that already exists: Fetch never overwrites.
func checkDestAbsent(dest string) error {
	if dest == "" {
		return errors.New("source: no destination path")
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("source: %s already exists", dest)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("source: %w", err)
	}
	return os.MkdirAll(filepath.Dir(dest), 0o755)
}

// partialDir is the temporary directory "<dest>.partial" a directory payload is written into,
// opened as an os.Root so that no path (nor a symlink) can leave it.
type partialDir struct {
	path, dest string
	root       *os.Root
}

// newPartialDir makes an empty "<dest>.partial" (a leftover of an earlier run is removed).
func newPartialDir(dest string) (*partialDir, error) {
	p := dest + ".partial"
	if err := os.RemoveAll(p); err != nil {
		return nil, err
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(p)
	if err != nil {
		return nil, err
	}
	return &partialDir{path: p, dest: dest, root: root}, nil
}

// fillDir makes the directory dest through "<dest>.partial": fetch(pd, i) writes file i of n
// into pd and returns its size. Nothing is left at dest or at the partial name on failure.
func fillDir(dest string, n int, fetch func(pd *partialDir, i int) (int64, error)) (Result, error) {
	pd, err := newPartialDir(dest)
	if err != nil {
		return Result{}, err
	}
	res := Result{Dir: true}
	for i := range n {
		size, err := fetch(pd, i)
		if err != nil {
			pd.abort()
			return Result{}, err
		}
		res.Files++
		res.Bytes += size
	}
	if err := pd.finish(); err != nil {
		pd.abort()
		return Result{}, err
	}
	return res, nil
}

// create makes the new file rel (a checked slash path) and its parent directories.
func (d *partialDir) create(rel string) (*os.File, error) {
	if err := checkRelPath(rel); err != nil {
		return nil, err
	}
	if dir := filepath.Dir(filepath.FromSlash(rel)); dir != "." {
		if err := d.root.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	return d.root.OpenFile(filepath.FromSlash(rel), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
}

// finish renames the complete directory to dest.
func (d *partialDir) finish() error {
	if err := d.root.Close(); err != nil {
		return err
	}
	if err := os.Rename(d.path, d.dest); err != nil {
		return err
	}
	syncDir(filepath.Dir(d.dest))
	return nil
}

// abort removes the temporary directory.
func (d *partialDir) abort() {
	_ = d.root.Close()
	_ = os.RemoveAll(d.path)
}

// syncDir makes a rename in dir durable, as far as the file system allows (best effort).
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}
