package nodecache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Prepare readies a node's cache root for peers running as uid (and gid uid): it creates the
// root, content/ and by-name/ (0755) and gives every entry of the tree (symlinks themselves,
// never their targets) to uid where it belongs to someone else. The root must be absolute and
// clean, and not a symlink. The init container of a node's peer pod runs it as root.
func Prepare(root string, uid int) error {
	if err := CheckRoot(root); err != nil {
		return err
	}
	if uid < 0 {
		return fmt.Errorf("node cache: uid %d is negative", uid)
	}
	if _, err := Open(root); err != nil { // checks the root, creates it, content/ and by-name/
		return err
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("node cache: %w", err)
		}
		return chownEntry(p, uid)
	})
}

// chownEntry gives p (not what a symlink points to) to uid:uid unless it is theirs already.
func chownEntry(p string, uid int) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("node cache: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == uid && int(st.Gid) == uid {
		return nil // unchanged: a chown would change the file's ctime and force a re-verification
	}
	if err := os.Lchown(p, uid, uid); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("node cache: give %s to uid %d: %w (cache-prepare runs as root)", p, uid, err)
		}
		return fmt.Errorf("node cache: give %s to uid %d: %w", p, uid, err)
	}
	return nil
}
