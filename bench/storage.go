package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// Where a run's files live. The reference scenario writes 50 copies of 64 MiB in 17 s into the
// one disk of this machine, where in a deployment each peer writes its 4 MiB/s to its own
// disk: the shared disk is the lab's artifact, so those variants keep their files in memory (a
// tmpfs), and reference-disk measures the same swarm on disk (docs/benchmarks.md).

// Storage kinds: swarmSpec.Storage asks for one, variantResult.Storage records the one used.
const (
	storageDisk   = "disk"
	storageMemory = "memory"
)

// defaultShmDir is Linux's shared-memory tmpfs, under which runs in memory get a directory.
const defaultShmDir = "/dev/shm"

// memoryHeadroom is the room a run in memory asks of the tmpfs over the payload's copies (the
// seeder's and every leecher's): a tenth more, for the torrent, scripts and partial files.
const memoryHeadroom = 1.1

// workDirs are where the lab puts its runs' files.
type workDirs struct {
	disk string // a directory on disk: the -work flag's, or one under the temporary directory
	shm  string // the tmpfs under which runs in memory get their directory (defaultShmDir)
	// pinned (the -work flag) puts every run's files under disk, whatever its variant asks.
	pinned bool
}

// placement is where one variant's runs keep their files.
type placement struct {
	dir     string
	storage string // storageMemory when dir is on a tmpfs, else storageDisk
	note    string // why storage is not what the variant asked for ("" when it is)
	release func() // removes the directory place made, if any
}

// memoryNeed is the tmpfs room a run of spec in memory needs: every copy with memoryHeadroom,
// and no less than the warm-up's scratch file.
func (s swarmSpec) memoryNeed() int64 {
	copies := int64(float64(int64(s.Leechers+1)*s.Size) * memoryHeadroom)
	return max(copies, s.warmBytes())
}

// warmBytes is what the warm-up before each run writes: every copy, the source and the
// seeder's file, what the run will write.
func (s swarmSpec) warmBytes() int64 { return int64(s.Leechers+2) * s.Size }

// wantsMemory says whether spec asks for its files in memory ("" is disk, today's default).
func (s swarmSpec) wantsMemory() bool { return s.Storage == storageMemory }

// place chooses the directory of spec's runs: a new directory under shm when spec asks for
// memory and the tmpfs is there with room, else disk. The storage recorded is that of the
// filesystem the files end up on, with a note where it differs from what spec asks.
func (w workDirs) place(spec swarmSpec) (placement, error) {
	why := "-work puts every run's files under " + w.disk
	if spec.wantsMemory() && !w.pinned {
		if why = shmUnusable(w.shm, spec.memoryNeed()); why == "" {
			dir, err := os.MkdirTemp(w.shm, "minibit-bench-")
			if err == nil {
				return placement{dir: dir, storage: storageMemory, release: func() { _ = os.RemoveAll(dir) }}, nil
			}
			why = err.Error()
		}
	}
	onTmpfs, err := isTmpfs(w.disk)
	if err != nil {
		return placement{}, err
	}
	p := placement{dir: w.disk, storage: storageDisk, release: func() {}}
	if onTmpfs {
		p.storage = storageMemory
	}
	switch {
	case spec.wantsMemory() && !onTmpfs:
		p.note = "memory asked for, on disk: " + why
	case !spec.wantsMemory() && onTmpfs:
		p.note = "disk asked for, in memory: " + w.disk + " is on a tmpfs"
	}
	return p, nil
}

// shmUnusable says why runs needing need bytes cannot go under shm ("" when they can): it is
// missing, not a tmpfs, or has too little room.
func shmUnusable(shm string, need int64) string {
	var st unix.Statfs_t
	if err := unix.Statfs(shm, &st); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return shm + " does not exist"
		}
		return fmt.Sprintf("%s: %v", shm, err)
	}
	if st.Type != unix.TMPFS_MAGIC {
		return shm + " is not a tmpfs"
	}
	available, ok := memoryAvailable()
	if !ok {
		available = math.MaxUint64 // not Linux's /proc: the tmpfs's own limit only
	}
	return roomShort(shm, uint64(need), st.Bavail*uint64(st.Bsize), available)
}

// roomShort says why need bytes do not fit in the tmpfs shm with free bytes left, on a machine
// with available bytes of memory ("" when they fit). A tmpfs may be as large as the machine's
// memory (this one's is), and a run past what the memory holds would swap or be killed.
func roomShort(shm string, need, free, available uint64) string {
	gib := func(n uint64) float64 { return float64(n) / (1 << 30) }
	switch {
	case free < need:
		return fmt.Sprintf("%s has %.2f GiB free, the run needs %.2f GiB", shm, gib(free), gib(need))
	case available < need:
		return fmt.Sprintf("the machine has %.2f GiB of memory available, the run needs %.2f GiB", gib(available), gib(need))
	}
	return ""
}

// memoryAvailable is the kernel's estimate of the memory it can give without swapping
// (/proc/meminfo's MemAvailable); false where it is not known.
func memoryAvailable() (uint64, bool) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	return statusField(data, "MemAvailable")
}

// isTmpfs says whether dir is on a tmpfs, that is, in memory.
func isTmpfs(dir string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false, fmt.Errorf("storage of %s: %w", dir, err)
	}
	return st.Type == unix.TMPFS_MAGIC, nil
}
