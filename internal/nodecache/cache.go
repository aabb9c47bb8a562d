// Package nodecache is the node cache of the peer binary: verified copies of torrents' files
// or directories kept on a node's disk by content (the v1 info-hash), each Swarm's stable path
// to its copy switched atomically once the copy is verified, a record of what was verified so
// that a restart does not re-hash, and the clean-up of copies no Swarm uses.
//
// Layout under the root (the manager's --node-cache-root, mounted into the node's peer pods):
//
//	content/<info-hash>/<name>        the copy: a file, or a multi-file torrent's directory
//	                                  (<name>.part, file or directory, while downloading)
//	content/<info-hash>/.verified     the record (JSON), written only after every piece verified;
//	                                  a directory's lists each file's identity, and a hit needs
//	                                  exactly the torrent's tree (no extra or special entry)
//	content/<info-hash>.lock          flock: shared while a peer seeds the copy, exclusive
//	                                  while one downloads it or the clean-up removes it
//	by-name/<namespace>/<swarm>       a symlink to ../../content/<info-hash>
//
// Every path is built from checked parts (DNS labels, 40 hex digits, a file name without a
// separator, a directory's plain relative paths read through an os.Root) and checked to stay
// under the root. The cache creates its symlinks itself and
// never follows one it did not create. It needs Linux (flock, inode and ctime from stat).
package nodecache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Directories under the root, and the record's name in a content directory.
const (
	contentDir = "content"
	byNameDir  = "by-name"
	recordName = ".verified"
	lockSuffix = ".lock"
)

// ErrDiskFull wraps a cache write that failed for lack of space (ENOSPC, EDQUOT).
var ErrDiskFull = errors.New("node cache: disk full")

// diskError names a full disk clearly and keeps the original error.
func diskError(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	}
	return err
}

// Cache is one node cache root.
type Cache struct {
	root string
}

// Open checks root (absolute, clean, a directory and not a symlink) and creates it, content/
// and by-name/ when missing.
func Open(root string) (*Cache, error) {
	if err := CheckRoot(root); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("node cache: create %s: %w", root, diskError(err))
	}
	if err := realDir(root); err != nil {
		return nil, err
	}
	c := &Cache{root: root}
	for _, d := range []string{contentDir, byNameDir} {
		if err := ensureDir(filepath.Join(root, d)); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Root returns the cache's root directory.
func (c *Cache) Root() string { return c.root }

// realDir refuses a path that is not a directory, or is a symlink.
func realDir(p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("node cache: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("node cache: %s is not a directory (a symlink is refused, not followed)", p)
	}
	return nil
}

// ensureDir creates the directory p (0755) unless it exists; an existing p must be a real
// directory.
func ensureDir(p string) error {
	err := os.Mkdir(p, 0o755)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		if err != nil {
			return fmt.Errorf("node cache: %w", diskError(err))
		}
		return nil
	}
	return realDir(p)
}

// contentPath is content/<ih>[/name...] under the root.
func (c *Cache) contentPath(ih string, name ...string) (string, error) {
	if !isInfoHash(ih) {
		return "", fmt.Errorf("node cache: %q is not an info-hash", ih)
	}
	return under(c.root, append([]string{contentDir, ih}, name...)...)
}

// lockPath is content/<ih>.lock under the root.
func (c *Cache) lockPath(ih string) (string, error) {
	if !isInfoHash(ih) {
		return "", fmt.Errorf("node cache: %q is not an info-hash", ih)
	}
	return under(c.root, contentDir, ih+lockSuffix)
}

// linkPath is by-name/<namespace>/<swarm> under the root, with its namespace directory.
func (c *Cache) linkPath(n Name) (link, nsDir string, err error) {
	if _, err := ParseName(n.String()); err != nil {
		return "", "", err
	}
	if nsDir, err = under(c.root, byNameDir, n.Namespace); err != nil {
		return "", "", err
	}
	link, err = under(c.root, byNameDir, n.Namespace, n.Swarm)
	return link, nsDir, err
}

// syncDir makes a rename or a new entry in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
