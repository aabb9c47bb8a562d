package peer

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// diskBytes is the space a file takes on disk (stat's blocks of 512 bytes).
func diskBytes(t *testing.T, path string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

func TestWriteSparseSkipsZeroBlocksOnlyInTheSparseRegion(t *testing.T) {
	const size = 64 << 10
	path := filepath.Join(t.TempDir(), "f")
	garbage := bytes.Repeat([]byte{0xee}, size) // stands for what was on disk before
	if err := os.WriteFile(path, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := make([]byte, 40<<10) // zeros, with non-zero bytes in two blocks
	data[5000], data[30000] = 1, 2
	const off, sparseFrom = 1000, 16 << 10
	if err := writeSparse(f, data, off, sparseFrom); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(garbage)
	copy(want[off:], data)
	for blk := int64(sparseFrom); blk < off+int64(len(data)); blk += sparseBlock {
		if !bytes.ContainsFunc(data[blk-off:min(blk+sparseBlock-off, int64(len(data)))], func(r rune) bool { return r != 0 }) {
			copy(want[blk:blk+sparseBlock], garbage[blk:]) // a zero block past sparseFrom: not written
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatal("writeSparse wrote other bytes than every non-zero block and every block before sparseFrom")
	}
	if bytes.Equal(want, append(append(bytes.Clone(garbage[:off]), data...), garbage[off+len(data):]...)) {
		t.Fatal("the test skips no block")
	}
}

// zeroTorrent is a torrent of size zero bytes (a sparse source file that takes no disk).
func zeroTorrent(t *testing.T, size, pieceLength int64) (string, *metainfo.MetaInfo) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "zeros.bin")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	meta, err := metainfo.Create(src, metainfo.CreateOptions{PieceLength: pieceLength})
	if err != nil {
		t.Fatal(err)
	}
	return src, meta
}

// sparseFile makes a file of size zero bytes that takes no disk.
func sparseFile(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

// A 1 GiB payload of zeros (a directory of two sparse files and a small one), downloaded over
// TCP from a seeder, takes almost no disk.
func TestSparseZeroPayloadTakesNoDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB over loopback")
	}
	src := filepath.Join(t.TempDir(), "zeros")
	sparseFile(t, filepath.Join(src, "a.bin"), 768<<20-1000)
	sparseFile(t, filepath.Join(src, "sub", "b.bin"), 256<<20)
	if err := os.WriteFile(filepath.Join(src, "note"), []byte("not zeros"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	meta, err := metainfo.CreateDir(src, metainfo.CreateOptions{PieceLength: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	tt := startTracker(t)
	startSeeder(t, meta, src, tt.url())
	cfg := leecherConfig(t, meta, t.TempDir(), tt.url())
	r := startSession(t, cfg)
	t.Logf("torrent made in %v", time.Since(start))
	r.WaitDone(t, 10*time.Minute, func() any { return r.Stats() }) // 1 GiB hashed twice under -race
	var used int64
	for _, rel := range []string{"a.bin", "sub/b.bin", "note"} {
		used += diskBytes(t, filepath.Join(cfg.Path, rel))
	}
	t.Logf("1 GiB of zeros downloaded: %d bytes on disk", used)
	if used > 1<<20 {
		t.Fatalf("the downloaded zeros take %d bytes on disk, want under 1 MiB", used)
	}
	for rel, size := range map[string]int64{"a.bin": 768<<20 - 1000, "sub/b.bin": 256 << 20, "note": 9} {
		if info, err := os.Stat(filepath.Join(cfg.Path, rel)); err != nil || info.Size() != size {
			t.Fatalf("%s: %v, %v, want %d bytes", rel, info, err, size)
		}
	}
}

// A resumed .part with garbage where the payload is zeros is rewritten: the zero skip never
// applies to what was on disk before this run.
func TestSparseResumeRewritesGarbageInZeroRegion(t *testing.T) {
	src, meta := zeroTorrent(t, 1<<20, 64<<10)
	final := filepath.Join(t.TempDir(), meta.Info.Name)
	st, _, err := openStorage(meta, final, false, false)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 64<<10)
	for i := range meta.NumPieces() {
		if err := st.WritePiece(i, zeros); err != nil {
			t.Fatal(err)
		}
	}
	_ = st.Close()
	if used := diskBytes(t, final+partSuffix); used > 0 {
		t.Fatalf("1 MiB of zeros written into a new file takes %d bytes on disk", used)
	}
	f, err := os.OpenFile(final+partSuffix, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteAt(bytes.Repeat([]byte{0xee}, 20000), 120000) // pieces 1 and 2
	_ = f.Close()

	st, have, err := openStorage(meta, final, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if have[1] || have[2] || countTrue(have) != meta.NumPieces()-2 {
		t.Fatalf("resumed %v, want every piece but 1 and 2", have)
	}
	for _, i := range []int{1, 2} {
		if err := st.WritePiece(i, zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	assertSameFile(t, src, final)
}

// The same two properties for a directory: zeros skipped in files this run made, garbage in a
// resumed file's zero region rewritten.
func TestSparseTree(t *testing.T) {
	const pieceLength = 1 << 20
	big, small := make([]byte, 32<<20), make([]byte, 3<<20+5)
	small[3<<20] = 1
	ft := newFakeTree(pieceLength, []string{"big", "sub/small"}, [][]byte{big, small})
	final := filepath.Join(t.TempDir(), "m")
	st, _ := ft.mustOpen(t, final, false)
	ft.writeAll(t, st)
	part := final + partSuffix
	if used := diskBytes(t, filepath.Join(part, "big")) + diskBytes(t, filepath.Join(part, "sub", "small")); used > 64<<10 {
		t.Fatalf("35 MiB of zeros take %d bytes on disk", used)
	}
	_ = st.Close()
	f, err := os.OpenFile(filepath.Join(part, "big"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteAt([]byte("garbage"), 5<<20)
	_ = f.Close()
	st, have := ft.mustOpen(t, final, false)
	if have[5] || countTrue(have) != len(ft.pieces)-1 {
		t.Fatalf("resumed %d pieces, piece 5 %v", countTrue(have), have[5])
	}
	if err := st.WritePiece(5, ft.pieces[5]); err != nil {
		t.Fatal(err)
	}
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	ft.assertTree(t, final)
}
