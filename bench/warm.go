package main

import (
	"fmt"
	"os"
)

// warmPageCache writes n bytes to a scratch file under dir and deletes it, so that the run that
// follows writes its copies into memory the machine has touched recently. On the lab's VM memory
// left idle for a while goes back to the host, and touching it again costs the guest's CPU
// (docs/benchmarks.md, "Warm-up", has the figures). The warm-up takes that one cost out of the
// measure (not every source of variation on a shared VM); a machine whose memory is backed up
// front (bare metal, most nodes) never pays it.
func warmPageCache(dir string, n int64) error {
	f, err := os.CreateTemp(dir, "warm-")
	if err != nil {
		return fmt.Errorf("warm page cache: %w", err)
	}
	defer os.Remove(f.Name())
	chunk := make([]byte, 1<<20)
	for written := int64(0); written < n; written += int64(len(chunk)) {
		if _, err := f.Write(chunk); err != nil {
			f.Close()
			return fmt.Errorf("warm page cache: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("warm page cache: %w", err)
	}
	return nil
}
