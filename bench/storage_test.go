package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// shmRoot is a fresh directory on the machine's tmpfs, standing for /dev/shm; the test is
// skipped where there is none.
func shmRoot(t *testing.T) string {
	t.Helper()
	if ok, err := isTmpfs(defaultShmDir); err != nil || !ok {
		t.Skipf("%s is not a tmpfs here (%v)", defaultShmDir, err)
	}
	root, err := os.MkdirTemp(defaultShmDir, "minibit-bench-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	return root
}

// diskDir is a fresh directory on disk; the test is skipped where the temporary directory is a
// tmpfs.
func diskDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if ok, err := isTmpfs(dir); err != nil || ok {
		t.Skipf("the temporary directory is a tmpfs (%v)", err)
	}
	return dir
}

func smallSwarm(storage string) swarmSpec {
	return swarmSpec{Leechers: 3, Size: 1 << 20, PieceSize: 64 << 10, UploadCap: 8 << 20, SuperSeed: true,
		Storage: storage, Timeout: time.Minute}
}

// A variant asking for memory gets its own directory on the tmpfs, removed by release; one
// asking for disk gets the disk directory.
func TestPlaceInMemory(t *testing.T) {
	work := workDirs{disk: diskDir(t), shm: shmRoot(t)}
	p, err := work.place(smallSwarm(storageMemory))
	if err != nil {
		t.Fatal(err)
	}
	if p.storage != storageMemory || p.note != "" || filepath.Dir(p.dir) != work.shm {
		t.Errorf("memory asked for: %s in %s (%q), want memory under %s", p.storage, p.dir, p.note, work.shm)
	}
	p.release()
	if left, err := os.ReadDir(work.shm); err != nil || len(left) != 0 {
		t.Errorf("after release the tmpfs holds %d entries (%v), want none", len(left), err)
	}
	p, err = work.place(smallSwarm(storageDisk))
	if err != nil {
		t.Fatal(err)
	}
	if p.storage != storageDisk || p.note != "" || p.dir != work.disk {
		t.Errorf("disk asked for: %s in %s (%q), want disk in %s", p.storage, p.dir, p.note, work.disk)
	}
}

// Where the tmpfs is missing, is not one, has no room, or -work is given, a variant asking for
// memory runs on disk, and the placement says why.
func TestPlaceFallsBackToDisk(t *testing.T) {
	disk := diskDir(t)
	huge := smallSwarm(storageMemory)
	huge.Size = 1 << 50
	cases := []struct {
		name string
		work workDirs
		spec swarmSpec
		why  string
	}{
		{"no /dev/shm", workDirs{disk: disk, shm: filepath.Join(disk, "missing")}, smallSwarm(storageMemory), "missing does not exist"},
		{"not a tmpfs", workDirs{disk: disk, shm: disk}, smallSwarm(storageMemory), "is not a tmpfs"},
		{"no room", workDirs{disk: disk, shm: shmRoot(t)}, huge, "GiB free, the run needs 5242880.00 GiB"},
		{"-work", workDirs{disk: disk, shm: shmRoot(t), pinned: true}, smallSwarm(storageMemory), "-work puts every run's files under " + disk},
	}
	for _, c := range cases {
		p, err := c.work.place(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p.storage != storageDisk || p.dir != disk || !strings.HasPrefix(p.note, "memory asked for, on disk: ") ||
			!strings.Contains(p.note, c.why) {
			t.Errorf("%s: %s in %s (%q), want disk in %s because %q", c.name, p.storage, p.dir, p.note, disk, c.why)
		}
		p.release()
		if _, err := os.Stat(disk); err != nil {
			t.Errorf("%s: release removed the disk directory: %v", c.name, err)
		}
	}
}

// A run in memory must fit both the tmpfs and the machine's available memory.
func TestRoomShort(t *testing.T) {
	const gib = 1 << 30
	cases := []struct {
		need, free, available uint64
		want                  string
	}{
		{3 * gib, 4 * gib, 5 * gib, ""},
		{3 * gib, 3 * gib, 3 * gib, ""},
		{3 * gib, 2 * gib, 5 * gib, "/dev/shm has 2.00 GiB free, the run needs 3.00 GiB"},
		{3 * gib, 24 * gib, 2 * gib, "the machine has 2.00 GiB of memory available, the run needs 3.00 GiB"},
	}
	for _, c := range cases {
		if got := roomShort("/dev/shm", c.need, c.free, c.available); got != c.want {
			t.Errorf("need %d, free %d, available %d: %q, want %q", c.need, c.free, c.available, got, c.want)
		}
	}
	if n, ok := memoryAvailable(); !ok || n == 0 {
		t.Errorf("memory available: %d, %v; want /proc/meminfo's MemAvailable", n, ok)
	}
}

// -work on a tmpfs puts every variant in memory, and those that asked for disk say so.
func TestPlaceRecordsAWorkDirOnATmpfs(t *testing.T) {
	work := workDirs{disk: shmRoot(t), shm: filepath.Join(t.TempDir(), "unused"), pinned: true}
	for _, storage := range []string{storageMemory, storageDisk, ""} {
		p, err := work.place(smallSwarm(storage))
		if err != nil {
			t.Fatal(err)
		}
		wantNote := storage != storageMemory
		if p.storage != storageMemory || p.dir != work.disk || (p.note != "") != wantNote {
			t.Errorf("asked %q: %s in %s (%q), want memory in %s, a note %v", storage, p.storage, p.dir, p.note, work.disk, wantNote)
		}
	}
}

// A run in memory asks the tmpfs for its copies and a tenth more, never less than its warm-up.
func TestMemoryNeed(t *testing.T) {
	copies := float64(51 * 64 * mib)
	if got, want := referenceSpec().memoryNeed(), int64(copies*1.1); got != want {
		t.Errorf("the reference needs %d bytes, want (50 + 1) x 64 MiB x 1.1 = %d", got, want)
	}
	if got, want := smallSwarm(storageMemory).memoryNeed(), int64(5<<20); got != want {
		t.Errorf("3 leechers of 1 MiB need %d bytes, want the warm-up's (3 + 2) MiB = %d", got, want)
	}
}

// The reference's variants run in memory but reference-disk; the other scenarios on disk.
func TestScenariosStorage(t *testing.T) {
	for _, sc := range scenarios() {
		for _, v := range sc.Variants {
			want := storageDisk
			if sc.Name == "reference" && v.Name != referenceDiskVariant {
				want = storageMemory
			}
			if got := v.Spec.Storage; got != want && (want != storageDisk || got != "") {
				t.Errorf("%s/%s: storage %q, want %s", sc.Name, v.Name, got, want)
			}
		}
	}
	ref, _ := findScenario("reference")
	if !slices.ContainsFunc(ref.Variants, func(v variant) bool { return v.Name == referenceDiskVariant }) {
		t.Error("the reference scenario has no reference-disk variant")
	}
}

// A scenario in memory runs end to end, MiniBit's sessions and libtorrent's: each variant's
// files on the tmpfs, every copy verified, and nothing left on the tmpfs afterwards.
func TestScenarioInMemoryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs swarms")
	}
	if why := libtorrentMissing(); why != "" {
		t.Fatal(why) // CI installs it (hack/test-deps.sh)
	}
	work := workDirs{disk: diskDir(t), shm: shmRoot(t)}
	// libtorrent's super-seeder sends its first offers only after 10 s (docs/benchmarks.md), and
	// a swarm of libtorrent sessions under the race detector on a busy machine took more than
	// the minute of smallSwarm: its variant here seeds plainly, with the lab tests' 3 minutes.
	lt := withLibtorrent(smallSwarm(storageMemory))
	lt.SuperSeed, lt.Timeout = false, 3*time.Minute
	sc := scenario{Name: "memory", Reps: 1, Primary: "minibit", Variants: []variant{
		{"minibit", smallSwarm(storageMemory)}, {"libtorrent", lt}}}
	res, err := runScenario(context.Background(), sc, work, t.TempDir(), false, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Variants) != 2 {
		t.Fatalf("%d variants ran (skipped %q), want 2", len(res.Variants), res.Skipped)
	}
	for _, v := range res.Variants {
		if v.Storage != storageMemory || v.StorageNote != "" || !v.AllVerified || v.Completed != 3 {
			t.Errorf("%s: storage %s (%q), verified %v, %d completed; want 3 verified copies in memory",
				v.Name, v.Storage, v.StorageNote, v.AllVerified, v.Completed)
		}
	}
	if left, err := os.ReadDir(work.shm); err != nil || len(left) != 0 {
		t.Errorf("the tmpfs holds %d entries after the scenario (%v), want none", len(left), err)
	}
	if left, err := os.ReadDir(work.disk); err != nil || len(left) != 0 {
		t.Errorf("the disk directory holds %d entries (%v): nothing of a run in memory belongs there", len(left), err)
	}
}
