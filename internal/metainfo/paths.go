package metainfo

import (
	"errors"
	"fmt"
)

// MaxFiles bounds the files of a torrent (pad files excluded), made or parsed.
const MaxFiles = 100000

// MaxPathDepth bounds the number of elements of a file's path.
const MaxPathDepth = 64

// padDir is the directory of BEP 47 pad files' paths: [".pad", "<length>"], as libtorrent
// writes them.
const padDir = ".pad"

// validPath rejects a file path that peers could not create safely under the torrent's
// directory: no elements, too many, or an element that is not a plain name.
func validPath(elems []string) error {
	if len(elems) == 0 {
		return errors.New("a file has an empty path")
	}
	if len(elems) > MaxPathDepth {
		return fmt.Errorf("a path has %d elements, more than %d", len(elems), MaxPathDepth)
	}
	for _, e := range elems {
		if err := validName(e); err != nil {
			return fmt.Errorf("path %q: %w", elems, err)
		}
	}
	return nil
}

// comparePaths orders paths by elements, bytewise: the v2 file tree's order.
func comparePaths(a, b []string) int {
	for k := range min(len(a), len(b)) {
		if a[k] != b[k] {
			if a[k] < b[k] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}
