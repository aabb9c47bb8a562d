package peer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// tree is a multi-file torrent's directory on disk. Every file is opened through an os.Root of
// the directory, so that no path, not even through a symlink planted in the tree, reaches
// outside it; besides, a symlink, or anything but a directory where a directory belongs or a
// regular file where a file belongs, is refused. Pad bytes are never written: reads of padding
// return zeros.
//
// Owner: readAt and writePiece are safe for concurrent use (positional I/O on files opened at
// start); finish is called once, by the session.
type tree struct {
	lay        treeLayout
	dir        string   // the directory opened: <path>.part or <path>
	root       *os.Root // dir's root; it follows the directory across finish's rename
	files      []file   // by file index; nil for a zero-length file
	sparseFrom []int64  // by file: from this offset on, this run created the file sparse
	checked    map[string]bool
}

// treeOpener opens the directory of a multi-file torrent.
func treeOpener(meta *metainfo.MetaInfo, lay treeLayout, path string) opener {
	n := lay.pieces.NumPieces()
	return opener{
		seed: func(trusted bool) (*storage, []bool, error) {
			t, err := openTreeDir(lay, path)
			if err != nil {
				return nil, nil, err
			}
			st := &storage{meta: meta, path: path, tree: t}
			return st.complete(trusted, n)
		},
		part: func() (*storage, []bool, error) {
			t, existed, err := openTreePart(lay, path+partSuffix)
			if err != nil {
				return nil, nil, err
			}
			st := &storage{meta: meta, path: path, tree: t, inPart: true}
			return st.resume(existed, n)
		},
	}
}

// openTreeDir opens the existing directory dir for reading (seeding, or checking a final tree):
// every file must be there with its size, or the error wraps errIncomplete.
func openTreeDir(lay treeLayout, dir string) (*tree, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	t, err := newTree(lay, dir)
	if err != nil {
		return nil, err
	}
	for i, tf := range lay.files {
		if err := t.openExisting(i, tf); err != nil {
			_ = t.close()
			return nil, err
		}
	}
	return t, nil
}

// openExisting opens file i of an existing tree for reading, checking what it is and its size.
func (t *tree) openExisting(i int, tf treeFile) error {
	if err := t.checkParents(tf.rel, false); err != nil {
		return err
	}
	info, err := t.root.Lstat(tf.rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("storage: %s is missing: %w", t.name(tf.rel), errIncomplete)
	case err != nil:
		return fmt.Errorf("storage: %w", err)
	case !info.Mode().IsRegular():
		return fmt.Errorf("storage: %s is a %v, not a regular file", t.name(tf.rel), info.Mode().Type())
	case info.Size() != tf.length:
		return fmt.Errorf("storage: %s is %d bytes, the torrent says %d: %w",
			t.name(tf.rel), info.Size(), tf.length, errIncomplete)
	}
	if tf.length == 0 {
		return nil
	}
	f, err := t.root.Open(tf.rel)
	if err != nil {
		return fmt.Errorf("storage: open file to seed: %w", err)
	}
	t.files[i] = f
	return nil
}

// openTreePart opens (or creates) the download directory part: every file but the empty ones
// is created, or kept, and sized to its length. The region a file gains here reads as zeros
// without being written (sparse), which writePiece's zero skip relies on.
func openTreePart(lay treeLayout, part string) (t *tree, existed bool, err error) {
	if err := os.MkdirAll(filepath.Dir(part), 0o755); err != nil {
		return nil, false, fmt.Errorf("storage: %w", err)
	}
	if err := os.Mkdir(part, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, false, fmt.Errorf("storage: %w", err)
	} else if err != nil {
		existed = true
	}
	if err := checkDir(part); err != nil {
		return nil, false, err
	}
	if t, err = newTree(lay, part); err != nil {
		return nil, false, err
	}
	for i, tf := range lay.files {
		if tf.length == 0 {
			continue // created at finish
		}
		if err := t.openPart(i, tf); err != nil {
			_ = t.close()
			return nil, false, err
		}
	}
	return t, existed, nil
}

// openPart opens or creates file i of the download directory and sizes it.
func (t *tree) openPart(i int, tf treeFile) error {
	if err := t.checkParents(tf.rel, true); err != nil {
		return err
	}
	var size int64
	switch info, err := t.root.Lstat(tf.rel); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("storage: %w", err)
	case !info.Mode().IsRegular():
		return fmt.Errorf("storage: %s is a %v, not a regular file", t.name(tf.rel), info.Mode().Type())
	default:
		size = info.Size()
	}
	f, err := t.root.OpenFile(tf.rel, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("storage: open %s: %w", t.name(tf.rel), err)
	}
	t.files[i] = f
	if err := f.Truncate(tf.length); err != nil {
		return fmt.Errorf("storage: size %s to %d bytes: %w", t.name(tf.rel), tf.length, diskError(err))
	}
	t.sparseFrom[i] = min(size, tf.length)
	return nil
}

func newTree(lay treeLayout, dir string) (*tree, error) {
	if err := checkOpenFiles(lay.files); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &tree{
		lay: lay, dir: dir, root: root,
		files:      make([]file, len(lay.files)),
		sparseFrom: make([]int64, len(lay.files)),
		checked:    make(map[string]bool),
	}, nil
}

// spareDescriptors are the descriptors a session needs besides its files (connections are
// bounded by MaxPeers, which a low limit makes the operator lower too).
const spareDescriptors = 64

// checkOpenFiles refuses, with a clear error, a tree whose files (each held open while the
// session runs) would not fit under the process's limit of open descriptors.
func checkOpenFiles(files []treeFile) error {
	n := 0
	for _, tf := range files {
		if tf.length > 0 {
			n++
		}
	}
	limit, known := openFilesLimit()
	if !known || uint64(n)+spareDescriptors <= limit {
		return nil // no limit known: opening fails with its own error if one is hit
	}
	return fmt.Errorf("storage: %d files are held open but the limit of open files is %d (raise ulimit -n)", n, limit)
}

// openFilesLimit is the process's soft limit of open descriptors, if known.
func openFilesLimit() (limit uint64, known bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	return lim.Cur, true
}

// checkDir refuses a path that is not a directory (a symlink to one included).
func checkDir(dir string) error {
	info, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("storage: %s is a %v, not a directory", dir, info.Mode().Type())
	}
	return nil
}

// checkParents makes sure every directory above rel is a real directory (not a symlink, not a
// file), creating the missing ones when create is set (else a missing one is errIncomplete).
func (t *tree) checkParents(rel string, create bool) error {
	var dirs []string
	for d := parentDir(rel); d != "" && !t.checked[d]; d = parentDir(d) {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		t.checked[d] = true
	}
	for i := len(dirs) - 1; i >= 0; i-- { // from the top down
		d := dirs[i]
		info, err := t.root.Lstat(d)
		switch {
		case errors.Is(err, fs.ErrNotExist) && create:
			if err := t.root.Mkdir(d, 0o755); err != nil {
				return fmt.Errorf("storage: %w", err)
			}
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("storage: directory %s is missing: %w", t.name(d), errIncomplete)
		case err != nil:
			return fmt.Errorf("storage: %w", err)
		case !info.IsDir():
			return fmt.Errorf("storage: %s is a %v, not a directory", t.name(d), info.Mode().Type())
		}
	}
	return nil
}

// name is rel's path for messages.
func (t *tree) name(rel string) string { return filepath.Join(t.dir, filepath.FromSlash(rel)) }

// readAt reads len(p) bytes at off of the torrent's piece space: file data from its file,
// padding as zeros.
func (t *tree) readAt(p []byte, off int64) error {
	for len(p) > 0 {
		i, pos, err := t.pieceAt(off)
		if err != nil {
			return err
		}
		f, foff, dataLen := t.lay.pieceFile(i)
		n := min(len(p), t.lay.pieces.PieceLen(i)-pos)
		if data := min(n, max(dataLen-pos, 0)); data > 0 {
			if _, err := t.files[f].ReadAt(p[:data], foff+int64(pos)); err != nil {
				return fmt.Errorf("storage: read %d bytes of %s at %d: %w",
					data, t.name(t.lay.files[f].rel), foff+int64(pos), err)
			}
			clear(p[data:n])
		} else {
			clear(p[:n])
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}

// pieceAt is the piece holding byte off of the piece space and off's position in it.
func (t *tree) pieceAt(off int64) (piece, pos int, err error) {
	n := t.lay.pieces.NumPieces()
	i := sort.Search(n, func(i int) bool { return t.lay.pieces.PieceOffset(i) > off }) - 1
	if off < 0 || i < 0 || off-t.lay.pieces.PieceOffset(i) >= int64(t.lay.pieces.PieceLen(i)) {
		return 0, 0, fmt.Errorf("storage: offset %d is outside the torrent", off)
	}
	return i, int(off - t.lay.pieces.PieceOffset(i)), nil
}

// writePiece writes piece i's file data (never its padding), skipping the zero blocks that
// land where this run created the file sparse.
func (t *tree) writePiece(i int, data []byte) error {
	if i < 0 || i >= t.lay.pieces.NumPieces() || len(data) != t.lay.pieces.PieceLen(i) {
		return fmt.Errorf("storage: piece %d is %d bytes, want %d", i, len(data), t.lay.pieces.PieceLen(i))
	}
	f, foff, dataLen := t.lay.pieceFile(i)
	if err := writeSparse(t.files[f], data[:dataLen], foff, t.sparseFrom[f]); err != nil {
		return fmt.Errorf("storage: write piece %d to %s: %w", i, t.name(t.lay.files[f].rel), diskError(err))
	}
	return nil
}

// verifyAll reads every piece (one piece buffer), sets have[i] for each piece that verifies and
// returns their count.
func (t *tree) verifyAll(have []bool) (int, error) {
	buf := make([]byte, t.lay.pieces.PieceLen(0))
	good := 0
	for i := range have {
		data := buf[:t.lay.pieces.PieceLen(i)]
		if err := t.readAt(data, t.lay.pieces.PieceOffset(i)); err != nil {
			return 0, err
		}
		if t.lay.pieces.VerifyPiece(i, data) {
			have[i] = true
			good++
		}
	}
	return good, nil
}

// finish creates the empty files, syncs every file and directory of the complete download
// directory and renames it to final (then syncs final's parent, so the rename survives a
// crash). Reads keep working: the root and the files follow the directory.
func (t *tree) finish(final string) error {
	for i, tf := range t.lay.files {
		if tf.length == 0 {
			if err := t.createEmpty(tf.rel); err != nil {
				return err
			}
			continue
		}
		if err := t.files[i].Sync(); err != nil {
			return fmt.Errorf("storage: sync %s: %w", t.name(tf.rel), diskError(err))
		}
	}
	if err := t.syncDirs(); err != nil {
		return err
	}
	if err := os.Rename(t.dir, final); err != nil {
		return fmt.Errorf("storage: rename to %s: %w", final, err)
	}
	t.dir = final
	syncDir(filepath.Dir(final))
	return nil
}

// createEmpty creates (or keeps) the zero-length file rel.
func (t *tree) createEmpty(rel string) error {
	if err := t.checkParents(rel, true); err != nil {
		return err
	}
	if info, err := t.root.Lstat(rel); err == nil && !info.Mode().IsRegular() {
		return fmt.Errorf("storage: %s is a %v, not a regular file", t.name(rel), info.Mode().Type())
	}
	f, err := t.root.OpenFile(rel, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("storage: create %s: %w", t.name(rel), diskError(err))
	}
	return f.Close()
}

// syncDirs syncs the directory and every directory in it that holds a file of the torrent.
func (t *tree) syncDirs() error {
	dirs := map[string]bool{".": true}
	for _, tf := range t.lay.files {
		for d := parentDir(tf.rel); d != "" && !dirs[d]; d = parentDir(d) {
			dirs[d] = true
		}
	}
	for d := range dirs {
		f, err := t.root.Open(d)
		if err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		err = f.Sync()
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("storage: sync %s: %w", t.name(d), diskError(err))
		}
	}
	return nil
}

// syncDir syncs a directory so that a rename in it survives a crash (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// close closes every file and the root.
func (t *tree) close() error {
	var errs []error
	for _, f := range t.files {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	errs = append(errs, t.root.Close())
	return errors.Join(errs...)
}
