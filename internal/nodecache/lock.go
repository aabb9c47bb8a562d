package nodecache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// lockFile is an open content/<ih>.lock holding a flock.
type lockFile struct {
	f    *os.File
	path string
}

// errBusy says another process holds a conflicting lock.
var errBusy = errors.New("in use by another process")

// tryLock opens (creating it) the lock file at path and takes a shared or exclusive flock
// without waiting. It fails with errBusy when another process holds a conflicting lock, and
// retries when the file it locked was removed meanwhile (the clean-up removes a lock file
// while holding it: a lock on the removed file would protect nothing).
func tryLock(path string, exclusive bool) (*lockFile, error) {
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
		if err != nil {
			return nil, fmt.Errorf("node cache: open lock %s: %w", path, diskError(err))
		}
		l := &lockFile{f: f, path: path}
		if err := l.flock(exclusive); err != nil {
			_ = f.Close()
			return nil, err
		}
		if same, err := l.current(); err != nil || same {
			if err != nil {
				_ = f.Close()
			}
			return l, err
		}
		_ = f.Close() // removed under us: lock the new file
	}
	return nil, fmt.Errorf("node cache: lock %s: the lock file keeps being replaced", path)
}

// flock takes (or converts to) a shared or exclusive lock without waiting.
func (l *lockFile) flock(exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(l.f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errBusy
		}
		return fmt.Errorf("node cache: flock %s: %w", l.path, err)
	}
}

// current reports whether the locked file is still the one at its path.
func (l *lockFile) current() (bool, error) {
	held, err := l.f.Stat()
	if err != nil {
		return false, fmt.Errorf("node cache: %w", err)
	}
	now, err := os.Lstat(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("node cache: %w", err)
	}
	return os.SameFile(held, now), nil
}

// shared turns an exclusive lock into a shared one (waiting: only another shared taker can be
// in the way, and it does not hold the lock for long without sharing).
func (l *lockFile) shared() error {
	if err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_SH); err != nil {
		return fmt.Errorf("node cache: flock %s: %w", l.path, err)
	}
	return nil
}

// release marks the lock file as used now (the clean-up's retention counts from the last use)
// and drops the lock.
func (l *lockFile) release() error {
	_ = touch(l.path)
	return l.f.Close()
}

// fileID is what the record compares of a file: its inode and change times.
type fileID struct {
	size                 int64
	inode                uint64
	mtimeNano, ctimeNano int64
	regular, dir         bool
}

// statFile reads the fileID of path without following a symlink.
func statFile(path string) (fileID, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileID{}, err
	}
	return idOf(fi), nil
}

// idOf is the fileID of what fi describes (from Lstat: a symlink is neither regular nor a
// directory).
func idOf(fi os.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtimeNano: fi.ModTime().UnixNano(), regular: fi.Mode().IsRegular(), dir: fi.IsDir()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.inode = st.Ino
		id.ctimeNano = st.Ctim.Nano()
	}
	return id
}
