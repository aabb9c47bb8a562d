package metainfo

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// CreateDir hashes the regular files under the directory dir into a hybrid v1+v2 multi-file
// torrent: files in the v2 file tree's order (by path elements, bytewise), each starting on a
// piece boundary (a BEP 47 pad file follows every file but the last whose length is not a
// multiple of the piece length), one merkle tree per file (identical files share their root).
// A symbolic link, device, socket or pipe under dir is an error; empty directories are not
// kept; opts.Include and opts.Exclude choose the files; the name defaults to dir's base name.
// Files are opened through an os.Root, so none is read from outside dir. Like Create it reads
// a piece at a time, with memory independent of the payload's size.
func CreateDir(dir string, opts CreateOptions) (*MetaInfo, error) {
	if err := checkOptions(&opts, dir); err != nil {
		return nil, err
	}
	match, err := newMatcher(opts.Include, opts.Exclude)
	if err != nil {
		return nil, fmt.Errorf("metainfo: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("metainfo: %w", err)
	}
	defer root.Close()
	files, err := listFiles(root, match)
	if err != nil {
		return nil, fmt.Errorf("metainfo: %s: %w", dir, err)
	}
	lengths := make([]int64, len(files))
	paths := make([][]string, len(files))
	for k, f := range files {
		lengths[k], paths[k] = f.length, f.path
	}
	open := func(k int) (io.ReadCloser, error) { return openRegular(root, files[k]) }
	hashes, err := hashPieces(open, lengths, opts.PieceLength, opts.Progress)
	if err != nil {
		return nil, fmt.Errorf("metainfo: hashing %s: %w", dir, err)
	}
	return build(opts, paths, hashes)
}

// dirFile is a regular file found under the directory.
type dirFile struct {
	path   []string
	length int64
}

// listFiles walks root and returns its regular files that match, sorted by path elements.
func listFiles(root *os.Root, match *matcher) ([]dirFile, error) {
	var files []dirFile
	var payload int64
	err := fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: %w", name, notRegular(d.Type()))
		}
		if !match.take(name) {
			return nil
		}
		if len(files) >= MaxFiles {
			return fmt.Errorf("more than %d files", MaxFiles)
		}
		f, err := newDirFile(name, d)
		if err != nil {
			return err
		}
		payload += f.length
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no files to share (empty directory, or all excluded)")
	}
	if payload == 0 {
		return nil, ErrEmptyFile
	}
	slices.SortFunc(files, func(a, b dirFile) int { return comparePaths(a.path, b.path) })
	return files, nil
}

// newDirFile checks a file's path elements and reads its size.
func newDirFile(name string, d fs.DirEntry) (dirFile, error) {
	elems := strings.Split(name, "/")
	if err := validPath(elems); err != nil {
		return dirFile{}, err
	}
	st, err := d.Info()
	if err != nil {
		return dirFile{}, err
	}
	return dirFile{path: elems, length: st.Size()}, nil
}

// openRegular opens a listed file through root and checks it is still a regular file of at
// least its listed size (it may have been replaced since the walk).
func openRegular(root *os.Root, f dirFile) (io.ReadCloser, error) {
	name := path.Join(f.path...)
	file, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	size, err := regularFileSize(file)
	if err == nil && size < f.length {
		err = fmt.Errorf("shrank from %d to %d bytes while hashing", f.length, size)
	}
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return file, nil
}

// matcher chooses files by Include and Exclude globs.
type matcher struct {
	include, exclude [][]string
}

// newMatcher checks the globs.
func newMatcher(include, exclude []string) (*matcher, error) {
	m := &matcher{}
	var err error
	if m.include, err = splitGlobs(include); err != nil {
		return nil, err
	}
	if m.exclude, err = splitGlobs(exclude); err != nil {
		return nil, err
	}
	return m, nil
}

// splitGlobs splits each glob into its elements, checking each element's syntax.
func splitGlobs(globs []string) ([][]string, error) {
	out := make([][]string, 0, len(globs))
	for _, g := range globs {
		var elems []string
		for _, e := range strings.Split(strings.Trim(g, "/"), "/") {
			if _, err := path.Match(e, ""); err != nil {
				return nil, fmt.Errorf("bad glob %q: %w", g, err)
			}
			if e == "**" && len(elems) > 0 && elems[len(elems)-1] == "**" {
				continue // "**/**" is "**", and matching stays polynomial
			}
			elems = append(elems, e)
		}
		out = append(out, elems)
	}
	return out, nil
}

// take reports whether the file at the slash path name is chosen.
func (m *matcher) take(name string) bool {
	elems := strings.Split(name, "/")
	return (len(m.include) == 0 || matchAny(m.include, elems)) && !matchAny(m.exclude, elems)
}

func matchAny(globs [][]string, elems []string) bool {
	for _, g := range globs {
		if matchGlob(g, elems) {
			return true
		}
	}
	return false
}

// matchGlob matches path elements against glob elements, "**" matching any number of them.
func matchGlob(glob, elems []string) bool {
	for len(glob) > 0 {
		if glob[0] == "**" {
			for skip := 0; skip <= len(elems); skip++ {
				if matchGlob(glob[1:], elems[skip:]) {
					return true
				}
			}
			return false
		}
		if len(elems) == 0 {
			return false
		}
		if ok, _ := path.Match(glob[0], elems[0]); !ok {
			return false
		}
		glob, elems = glob[1:], elems[1:]
	}
	return len(elems) == 0
}
