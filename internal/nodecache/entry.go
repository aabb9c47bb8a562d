package nodecache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"
)

// pollInterval is how often Acquire tries again while another peer holds the content.
const pollInterval = 500 * time.Millisecond

// Entry is one content directory in use by this process, locked until Close.
type Entry struct {
	cache   *Cache
	content Content
	dir     string // content/<ih>
	path    string // content/<ih>/<name>
	lock    *lockFile
	hit     *Record // the matching record, nil when the copy must be verified or downloaded
	miss    error   // why the copy is not a hit (nil on a hit)
}

// Path is where the session keeps the file or directory (a download goes to Path+".part"
// first).
func (e *Entry) Path() string { return e.path }

// Hit reports whether the copy is verified already (its record matches the file as it is):
// the session may seed it at once, without hashing.
func (e *Entry) Hit() bool { return e.hit != nil }

// MissReason says why the copy is not a hit ("" on a hit): no record, another torrent's, or
// what changed in the file or the directory.
func (e *Entry) MissReason() string {
	if e.hit != nil || e.miss == nil {
		return ""
	}
	return e.miss.Error()
}

// VerifiedSHA256 is the whole file's SHA-256 when a matching record holds one, else "".
func (e *Entry) VerifiedSHA256() string {
	if e.hit == nil {
		return ""
	}
	return e.hit.SHA256
}

// Acquire locks the content directory of c, creating it, and says whether it holds a verified
// copy. A verified copy is held with a shared lock (any number of peers seed it); otherwise the
// lock is exclusive (this peer downloads or repairs the copy) and a stale record is removed.
// While another peer downloads the content, Acquire waits (until ctx ends).
func (c *Cache) Acquire(ctx context.Context, log *slog.Logger, content Content) (*Entry, error) {
	if err := checkContent(content); err != nil {
		return nil, err
	}
	ih := content.hex()
	dir, err := c.contentPath(ih)
	if err != nil {
		return nil, err
	}
	file, err := c.contentPath(ih, content.Name)
	if err != nil {
		return nil, err
	}
	lockPath, err := c.lockPath(ih)
	if err != nil {
		return nil, err
	}
	e := &Entry{cache: c, content: content, dir: dir, path: file}
	for waited := false; ; waited = true {
		done, err := e.try(lockPath)
		if err != nil && !errors.Is(err, errBusy) {
			_ = e.Close()
			return nil, err
		}
		if done {
			return e, nil
		}
		if !waited {
			log.Info("Waiting for the node cache's copy, in use by another peer", "infoHash", ih)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("node cache: waiting for %s: %w", ih, context.Cause(ctx))
		case <-time.After(pollInterval):
		}
	}
}

// try takes a shared lock and keeps it when the record matches, or turns it exclusive to
// download. errBusy: another peer holds the content and it is not verified yet.
func (e *Entry) try(lockPath string) (bool, error) {
	l, err := tryLock(lockPath, false)
	if err != nil {
		return false, err
	}
	if err := ensureDir(e.dir); err != nil {
		_ = l.f.Close()
		return false, err
	}
	if r, err := e.verified(); err == nil {
		e.lock, e.hit = l, &r
		return true, nil
	}
	if err := l.flock(true); err != nil {
		_ = l.f.Close() // a failed conversion may have dropped the shared lock already
		return false, err
	}
	r, err := e.verified()
	if err == nil { // verified while we waited for the exclusive lock
		e.lock, e.hit = l, &r
		return true, l.shared()
	}
	e.miss = err
	e.lock = l
	if err := e.clearStale(); err != nil {
		_ = l.f.Close()
		e.lock = nil
		return false, err
	}
	return true, nil
}

// errChanged says that a record does not describe the copy as it is now.
var errChanged = errors.New("the copy changed since it was verified, or the record is another torrent's")

// verified reads the record and compares it with the torrent and the file as it is now (a
// directory's every file, and its tree's shape); the error says why it is not a hit.
func (e *Entry) verified() (Record, error) {
	recordPath, err := e.cache.contentPath(e.content.hex(), recordName)
	if err != nil {
		return Record{}, err
	}
	r, err := readRecordLimit(recordPath, recordLimit(e.content))
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, errors.New("no record of a verified copy")
	}
	if err != nil {
		return Record{}, err
	}
	id, err := statFile(e.path)
	if err != nil {
		return Record{}, err
	}
	if !r.matches(e.content, id) {
		return Record{}, errChanged
	}
	if e.content.isDir() {
		ids, err := scanTree(e.path, e.content.Files)
		if err != nil {
			return Record{}, err
		}
		if rel := r.changedFile(e.content, ids); rel != "" {
			return Record{}, fmt.Errorf("%s: %w", rel, errChanged)
		}
	}
	return r, nil
}

// clearStale removes the record that no longer matches (the copy is verified again before a
// new one is written) and whatever stands at the file's names without being a regular file
// (a symlink there would make the session serve another file). For a directory, whatever
// stands there without being a directory goes, and in the directories every entry the torrent
// does not hold (pruneTree).
func (e *Entry) clearStale() error {
	recordPath, err := e.cache.contentPath(e.content.hex(), recordName)
	if err != nil {
		return err
	}
	if err := os.Remove(recordPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("node cache: remove stale record: %w", err)
	}
	for _, p := range []string{e.path, e.path + ".part"} {
		fi, err := os.Lstat(p)
		switch {
		case err != nil:
			continue
		case e.content.isDir() && fi.IsDir():
			if err := pruneTree(p, e.content.Files); err != nil {
				return err
			}
			continue
		case !e.content.isDir() && fi.Mode().IsRegular():
			continue
		}
		if err := os.RemoveAll(p); err != nil { // removes a symlink, never follows it
			return fmt.Errorf("node cache: remove %s, not what the torrent holds there: %w", p, err)
		}
	}
	return nil
}

// Finish is called once the session's file (or directory) is verified and in place: it
// records the copy (unless it was a hit whose record lacks nothing), with sha256 the whole
// file's SHA-256 when the session checked it (never for a directory), then points the stable
// name at it and lets other peers share it.
func (e *Entry) Finish(name Name, sha256 string) error {
	if sha256 != "" && e.content.isDir() {
		return fmt.Errorf("node cache: %s is a directory; a SHA-256 is one file's", e.content.Name)
	}
	if e.hit == nil || (sha256 != "" && e.hit.SHA256 == "") {
		if err := e.record(sha256); err != nil {
			return err
		}
	}
	if err := e.cache.switchLink(name, e.content.hex()); err != nil {
		return err
	}
	return e.lock.shared()
}

// record writes the record of the verified copy as it is now.
func (e *Entry) record(sha256 string) error {
	id, files, err := e.identify()
	if err != nil {
		return err
	}
	recordPath, err := e.cache.contentPath(e.content.hex(), recordName)
	if err != nil {
		return err
	}
	r := newRecord(e.content, id, files, sha256, time.Now())
	if err := writeRecord(recordPath, r); err != nil {
		return err
	}
	e.hit = &r
	return nil
}

// identify reads the identity of the verified copy, checking that it is what the content says:
// a regular file of its size, or a directory of exactly its files with their lengths.
func (e *Entry) identify() (fileID, []fileID, error) {
	id, err := statFile(e.path)
	if err != nil {
		return fileID{}, nil, fmt.Errorf("node cache: the verified copy: %w", err)
	}
	if !e.content.isDir() {
		if !id.regular || id.size != e.content.Size {
			return fileID{}, nil, fmt.Errorf("node cache: %s is not the verified file of %d bytes", e.path, e.content.Size)
		}
		return id, nil, nil
	}
	files, err := scanTree(e.path, e.content.Files)
	if err != nil {
		return fileID{}, nil, fmt.Errorf("node cache: %s is not the verified directory: %w", e.path, err)
	}
	for i, f := range e.content.Files {
		if files[i].size != f.Length {
			return fileID{}, nil, fmt.Errorf("node cache: %s/%s is %d bytes, not the verified %d", e.path, f.Path, files[i].size, f.Length)
		}
	}
	return id, files, nil
}

// Link points the stable name at a hit's copy before the session starts (the copy is verified
// already: consumers need not wait for the session).
func (e *Entry) Link(name Name) error {
	if e.hit == nil {
		return errors.New("node cache: only a verified copy is linked")
	}
	return e.cache.switchLink(name, e.content.hex())
}

// WantSHA256Done reports whether want (a SHA-256 in hex, "" for none) needs no more checking:
// none is wanted, or the matching record holds it.
func (e *Entry) WantSHA256Done(want string) bool {
	return want == "" || (e.VerifiedSHA256() != "" && strings.EqualFold(e.VerifiedSHA256(), want))
}

// Close drops the lock; the content directory stays for the next peer or the clean-up.
func (e *Entry) Close() error {
	if e.lock == nil {
		return nil
	}
	err := e.lock.release()
	e.lock = nil
	return err
}
