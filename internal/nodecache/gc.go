package nodecache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultRetention is how long an unreferenced copy stays before the clean-up removes it.
const DefaultRetention = time.Hour

// GCInterval is how often a peer using the cache runs the clean-up.
const GCInterval = 10 * time.Minute

// GCResult says what one clean-up did.
type GCResult struct {
	// Removed are the info-hashes of the copies removed.
	Removed []string
	// Kept counts the copies kept: referenced by a by-name link, in use (locked), or used
	// within the retention.
	Kept int
}

// GC removes every content directory that no by-name link points to, no peer holds (its lock
// is free) and nobody used for retention: its last use is the newest of the directory's
// modification time (a release touches it), its lock file's (a peer touches it when it stops)
// and its record's verification time. Lock files whose directory is gone go too. Entries of
// content/ the cache did not name are left alone.
func (c *Cache) GC(now time.Time, retention time.Duration) (GCResult, error) {
	var res GCResult
	entries, err := os.ReadDir(filepath.Join(c.root, contentDir))
	if err != nil {
		return res, fmt.Errorf("node cache: %w", err)
	}
	var errs []error
	for _, e := range entries {
		ih, isLock := strings.CutSuffix(e.Name(), lockSuffix)
		if !isInfoHash(ih) {
			continue
		}
		if isLock {
			if slices.Contains(res.Removed, ih) { // its directory went in this pass, with it
				continue
			}
			if dir, err := c.contentPath(ih); err == nil && !exists(dir) {
				errs = append(errs, c.collect(ih, now, retention, &res))
			}
			continue
		}
		if e.IsDir() {
			errs = append(errs, c.collect(ih, now, retention, &res))
		}
	}
	return res, errors.Join(errs...)
}

// StaleNameAge is how long a copy that a name still links to, but that no peer has used, stays:
// a Swarm deleted without its clean-up (its namespace deleted at once, or the manager gone)
// leaves its name behind; after so long without a peer, the name and the copy are removed.
const StaleNameAge = 7 * 24 * time.Hour

// collect removes content/<ih> (and its lock file) when it is unlocked (no peer uses it) and was
// last used longer ago than the retention, or, while a name still links to it, than
// StaleNameAge (then the names go too).
func (c *Cache) collect(ih string, now time.Time, retention time.Duration, res *GCResult) error {
	lockPath, err := c.lockPath(ih)
	if err != nil {
		return err
	}
	lockExisted := exists(lockPath) // a lock file made just now says nothing of the last use
	l, err := tryLock(lockPath, true)
	if errors.Is(err, errBusy) {
		res.Kept++
		return nil
	}
	if err != nil {
		return err
	}
	defer func() { _ = l.f.Close() }()
	// The references are read under the lock: a peer switches a link only while it holds one.
	refs, err := c.references()
	if err != nil {
		return err
	}
	dir, err := c.contentPath(ih)
	if err != nil {
		return err
	}
	age := now.Sub(c.lastUse(dir, lockPath, lockExisted))
	if age < retention || (len(refs[ih]) > 0 && age < max(retention, StaleNameAge)) {
		res.Kept++
		return nil
	}
	for _, link := range refs[ih] { // a name left by a Swarm whose clean-up never ran
		if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("node cache: remove %s: %w", link, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil { // removes symlinks, never follows them
		return fmt.Errorf("node cache: remove %s: %w", dir, err)
	}
	if err := os.Remove(lockPath); err != nil {
		return fmt.Errorf("node cache: remove %s: %w", lockPath, err)
	}
	res.Removed = append(res.Removed, ih)
	return nil
}

// lastUse is the newest of the content directory's and the lock file's modification times and
// the record's verification time. Opening an existing lock file does not change its time; one
// the clean-up itself created (lockExisted false) is not counted.
func (c *Cache) lastUse(dir, lockPath string, lockExisted bool) time.Time {
	var last time.Time
	paths := []string{dir}
	if lockExisted {
		paths = append(paths, lockPath)
	}
	for _, p := range paths {
		if fi, err := os.Lstat(p); err == nil && fi.ModTime().After(last) {
			last = fi.ModTime()
		}
	}
	if at, err := readVerifiedAt(filepath.Join(dir, recordName)); err == nil && at.After(last) {
		last = at
	}
	return last
}

// exists reports whether anything stands at p (a symlink is not followed).
func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
