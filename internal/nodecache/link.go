package nodecache

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// linkTarget is the relative target of a by-name link: from by-name/<ns>/ to content/<ih>.
func linkTarget(ih string) string {
	return filepath.Join("..", "..", contentDir, ih)
}

// ourLink returns the info-hash a by-name entry points to when it is one of our symlinks
// (../../content/<40 hex>). Anything else at that name (a directory, a file, a symlink
// elsewhere) is refused, never followed.
func ourLink(p string) (string, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return "", err
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return "", fmt.Errorf("node cache: %s is not a symlink the cache made; refused", p)
	}
	target, err := os.Readlink(p)
	if err != nil {
		return "", fmt.Errorf("node cache: %w", err)
	}
	ih, ok := strings.CutPrefix(target, linkTarget("")+string(filepath.Separator))
	if !ok || !isInfoHash(ih) {
		return "", fmt.Errorf("node cache: %s points to %q, not into the cache's content; refused", p, target)
	}
	return ih, nil
}

// switchLink points by-name/<ns>/<swarm> at content/<ih> atomically: a new symlink under a
// temporary name renamed over the old one, so that a reader finds either the old copy or the
// new one, never nothing. An entry at that name that is not our symlink is refused.
func (c *Cache) switchLink(n Name, ih string) error {
	link, nsDir, err := c.linkPath(n)
	if err != nil {
		return err
	}
	if !isInfoHash(ih) {
		return fmt.Errorf("node cache: %q is not an info-hash", ih)
	}
	// A release of the namespace's last name removes its directory: if that happens between
	// ensureDir and the symlink, make the directory again.
	for attempt := 0; ; attempt++ {
		err := c.trySwitch(n, ih, link, nsDir)
		if attempt == 4 || !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
}

// trySwitch is one attempt of switchLink.
func (c *Cache) trySwitch(n Name, ih, link, nsDir string) error {
	if err := ensureDir(nsDir); err != nil {
		return err
	}
	old, err := ourLink(link)
	switch {
	case err == nil && old == ih:
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	// A DNS label never starts with a dot: the temporary name cannot be another Swarm's.
	tmp := filepath.Join(nsDir, "."+n.Swarm+".tmp-"+hex.EncodeToString(rnd[:]))
	if err := os.Symlink(linkTarget(ih), tmp); err != nil {
		return fmt.Errorf("node cache: link %s: %w", n, diskError(err))
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("node cache: link %s: %w", n, err)
	}
	syncDir(nsDir)
	return nil
}

// Release removes the stable name n (by-name/<ns>/<swarm>) and nothing else: the copy stays
// until the clean-up finds it unreferenced for the retention. It marks the content directory
// as used now, so the retention counts from the release. A missing name is not an error; an
// entry that is not our symlink is refused.
func (c *Cache) Release(n Name) error {
	link, nsDir, err := c.linkPath(n)
	if err != nil {
		return err
	}
	if err := realDir(filepath.Dir(nsDir)); err != nil {
		return err
	}
	if fi, err := os.Lstat(nsDir); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil || !fi.IsDir() {
		return fmt.Errorf("node cache: %s is not a directory; refused", nsDir)
	}
	ih, err := ourLink(link)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.Remove(link); err != nil {
		return fmt.Errorf("node cache: release %s: %w", n, err)
	}
	syncDir(nsDir)
	if dir, err := c.contentPath(ih); err == nil {
		_ = touch(dir)
	}
	_ = os.Remove(nsDir) // only when empty
	return nil
}

// references returns, for each info-hash, the by-name links that point to it. Entries that are not our
// links are skipped (never followed).
func (c *Cache) references() (map[string][]string, error) {
	refs := map[string][]string{}
	base := filepath.Join(c.root, byNameDir)
	namespaces, err := os.ReadDir(base)
	if err != nil {
		return nil, fmt.Errorf("node cache: %w", err)
	}
	for _, ns := range namespaces {
		if !ns.IsDir() || checkLabel(ns.Name()) != nil {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(base, ns.Name()))
		if errors.Is(err, fs.ErrNotExist) { // released meanwhile
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("node cache: %w", err)
		}
		for _, e := range entries {
			link := filepath.Join(base, ns.Name(), e.Name())
			if ih, err := ourLink(link); err == nil {
				refs[ih] = append(refs[ih], link)
			}
		}
	}
	return refs, nil
}
