package peer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// partSuffix marks a file still being downloaded: the final name only ever holds a file whose
// every piece was verified.
const partSuffix = ".part"

// file is what storage needs of an *os.File; tests put a faulty disk behind it.
type file interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Close() error
}

// storage is the torrent's payload on disk, read and written with positional I/O
// (pread/pwrite), so that any number of connections use it at once without a shared offset.
// A single-file torrent is one file: a download lives in <path>.part and is renamed to <path>
// once complete and synced. A multi-file torrent is a directory (tree): a download lives in
// <path>.part/ and the directory is renamed to <path> once every file is synced.
//
// Owner: ReadAt and WritePiece are safe for concurrent use (positional I/O); finish is called
// once, by the session, after the last piece is written.
type storage struct {
	meta   *metainfo.MetaInfo
	path   string // the final name
	file   file   // the single file; nil for a directory
	tree   *tree  // the directory of a multi-file torrent; nil for a single file
	inPart bool   // the file is still <path>.part
	// sparseFrom is where the single file's region this run created sparse begins (see
	// writeSparse); its length when there is none.
	sparseFrom int64
}

// openStorage opens the file (or the directory of a multi-file torrent) for meta at path. When
// seed is true it must exist complete under its final name; it is verified piece by piece
// unless trusted (it was just hashed to create the torrent). Otherwise a download is resumed
// from <path>.part (or from a final file or directory that fails verification, moved back to
// .part), keeping only the pieces that verify. It returns the storage and the verified pieces.
func openStorage(meta *metainfo.MetaInfo, path string, seed, trusted bool) (*storage, []bool, error) {
	o := opener{
		seed: func(trusted bool) (*storage, []bool, error) { return openSeed(meta, path, trusted) },
		part: func() (*storage, []bool, error) { return openPart(meta, path) },
	}
	if lay, ok, err := treeLayoutOf(meta); ok {
		if err == nil {
			err = lay.check()
		}
		if err != nil {
			return nil, nil, err
		}
		o = treeOpener(meta, lay, path)
	}
	return o.open(path, seed, trusted)
}

// opener opens one kind of storage: complete under its final name, or a download in .part.
type opener struct {
	seed func(trusted bool) (*storage, []bool, error)
	part func() (*storage, []bool, error)
}

func (o opener) open(path string, seed, trusted bool) (*storage, []bool, error) {
	if seed {
		return o.seed(trusted)
	}
	if _, err := os.Stat(path); err == nil {
		st, have, err := o.seed(false)
		if err == nil {
			return st, have, nil
		}
		if !errors.Is(err, errIncomplete) {
			return nil, nil, err
		}
		// What is under the final name and does not verify came from somewhere else: move it
		// back to .part and keep what is good in it.
		if err := moveBack(path); err != nil {
			return nil, nil, err
		}
	}
	return o.part()
}

// moveBack renames path to path.part, replacing an older .part (a directory's too).
func moveBack(path string) error {
	part := path + partSuffix
	if info, err := os.Lstat(part); err == nil && info.IsDir() {
		if err := os.RemoveAll(part); err != nil {
			return fmt.Errorf("storage: remove stale %s: %w", part, err)
		}
	}
	if err := os.Rename(path, part); err != nil {
		return fmt.Errorf("storage: move unverified %s to %s: %w", path, part, err)
	}
	return nil
}

// errIncomplete says that a file under its final name does not hold every piece.
var errIncomplete = errors.New("file does not match the torrent")

func openSeed(meta *metainfo.MetaInfo, path string, trusted bool) (*storage, []bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: open file to seed: %w", err)
	}
	st := &storage{meta: meta, path: path, file: f, sparseFrom: meta.Info.Length}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("storage: %w", err)
	}
	if info.Size() != meta.Info.Length {
		_ = f.Close()
		return nil, nil, fmt.Errorf("storage: %s is %d bytes, the torrent says %d: %w",
			path, info.Size(), meta.Info.Length, errIncomplete)
	}
	return st.complete(trusted, meta.NumPieces())
}

// complete returns the n pieces of a storage opened under its final name: all of them when
// trusted, else those that verify, or errIncomplete (closing the storage) when one fails.
func (st *storage) complete(trusted bool, n int) (*storage, []bool, error) {
	have := make([]bool, n)
	if trusted {
		for i := range have {
			have[i] = true
		}
		return st, have, nil
	}
	good, err := st.verifyAll(have)
	if err != nil {
		_ = st.Close()
		return nil, nil, err
	}
	if good != len(have) {
		_ = st.Close()
		return nil, nil, fmt.Errorf("storage: %s: %d of %d pieces fail verification: %w",
			st.path, len(have)-good, len(have), errIncomplete)
	}
	return st, have, nil
}

func openPart(meta *metainfo.MetaInfo, path string) (*storage, []bool, error) {
	part := path + partSuffix
	if err := os.MkdirAll(filepath.Dir(part), 0o755); err != nil {
		return nil, nil, fmt.Errorf("storage: %w", err)
	}
	info, statErr := os.Stat(part)
	existed := statErr == nil
	sparseFrom := int64(0) // a new file is sparse from its first byte
	if existed {
		sparseFrom = min(info.Size(), meta.Info.Length)
	}
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: open %s: %w", part, err)
	}
	// Truncate sizes the file without writing it (sparse): disk space is taken piece by piece.
	if err := f.Truncate(meta.Info.Length); err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("storage: size %s to %d bytes: %w", part, meta.Info.Length, diskError(err))
	}
	st := &storage{meta: meta, path: path, file: f, inPart: true, sparseFrom: sparseFrom}
	return st.resume(existed, meta.NumPieces())
}

// resume returns a download's storage with the n pieces that verify in what existed before
// (none when nothing did).
func (st *storage) resume(existed bool, n int) (*storage, []bool, error) {
	have := make([]bool, n)
	if existed {
		if _, err := st.verifyAll(have); err != nil {
			_ = st.Close()
			return nil, nil, err
		}
	}
	return st, have, nil
}

// verifyAll reads the file piece by piece (one piece buffer, whatever the file size), sets
// have[i] for each piece that verifies and returns their count.
func (st *storage) verifyAll(have []bool) (int, error) {
	if st.tree != nil {
		return st.tree.verifyAll(have)
	}
	buf := make([]byte, st.meta.Info.PieceLength)
	good := 0
	for i := range have {
		data := buf[:st.meta.PieceLen(i)]
		if _, err := st.file.ReadAt(data, st.meta.PieceOffset(i)); err != nil {
			return 0, fmt.Errorf("storage: read piece %d of %s: %w", i, st.path, err)
		}
		if st.meta.VerifyPiece(i, data) {
			have[i] = true
			good++
		}
	}
	return good, nil
}

// ReadAt reads len(p) bytes of the torrent's piece space at off (the file's bytes; a
// directory's padding reads as zeros).
func (st *storage) ReadAt(p []byte, off int64) error {
	if st.tree != nil {
		return st.tree.readAt(p, off)
	}
	if _, err := st.file.ReadAt(p, off); err != nil {
		return fmt.Errorf("storage: read %d bytes at %d: %w", len(p), off, err)
	}
	return nil
}

// WritePiece writes the verified piece i. A full disk is reported as such; what was written
// before stays on disk and is found again by the next start.
func (st *storage) WritePiece(i int, data []byte) error {
	if !st.inPart {
		return fmt.Errorf("storage: write piece %d: the file is complete", i)
	}
	if st.tree != nil {
		return st.tree.writePiece(i, data)
	}
	if err := writeSparse(st.file, data, st.meta.PieceOffset(i), st.sparseFrom); err != nil {
		return fmt.Errorf("storage: write piece %d to %s: %w", i, st.path+partSuffix, diskError(err))
	}
	return nil
}

// ErrDiskFull wraps a write that failed for lack of space (ENOSPC, EDQUOT).
var ErrDiskFull = errors.New("disk full")

// diskError names a full disk clearly and keeps the original error.
func diskError(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	}
	return err
}

// finish syncs the complete .part file to disk and renames it to its final name (then syncs
// the directory, so the rename survives a crash). Reads through st keep working across the
// rename: the open descriptor does not change.
func (st *storage) finish() error {
	if !st.inPart {
		return nil
	}
	if st.tree != nil {
		if err := st.tree.finish(st.path); err != nil {
			return err
		}
		st.inPart = false
		return nil
	}
	if err := st.file.Sync(); err != nil {
		return fmt.Errorf("storage: sync %s: %w", st.path+partSuffix, diskError(err))
	}
	if err := os.Rename(st.path+partSuffix, st.path); err != nil {
		return fmt.Errorf("storage: rename to %s: %w", st.path, err)
	}
	st.inPart = false
	syncDir(filepath.Dir(st.path))
	return nil
}

// sha256Hex reads the whole file back and returns its SHA-256 in hex.
func (st *storage) sha256Hex() (string, error) {
	if st.tree != nil {
		return "", errors.New("storage: a directory has no single SHA-256 (its files are verified piece by piece)")
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(st.file, 0, st.meta.Info.Length)); err != nil {
		return "", fmt.Errorf("storage: hash %s: %w", st.path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Close closes the file (or the directory's files).
func (st *storage) Close() error {
	if st.tree != nil {
		return st.tree.close()
	}
	return st.file.Close()
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
