package peer

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// pieceOf reads piece i of the file at path.
func pieceOf(t *testing.T, path string, st *storage, i int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := make([]byte, st.meta.PieceLen(i))
	if _, err := f.ReadAt(data, st.meta.PieceOffset(i)); err != nil {
		t.Fatal(err)
	}
	return data
}

func countTrue(have []bool) int {
	n := 0
	for _, h := range have {
		if h {
			n++
		}
	}
	return n
}

func TestStorageResumesVerifiedPiecesOnly(t *testing.T) {
	src, meta := testTorrent(t, 1<<20+100, 64<<10)
	final := filepath.Join(t.TempDir(), meta.Info.Name)
	st, have, err := openStorage(meta, final, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if countTrue(have) != 0 {
		t.Fatalf("a fresh download has %d pieces", countTrue(have))
	}
	seed, _, err := openStorage(meta, src, true, false)
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	for _, i := range []int{0, 3, meta.NumPieces() - 1} {
		if err := st.WritePiece(i, pieceOf(t, src, seed, i)); err != nil {
			t.Fatal(err)
		}
	}
	bad := pieceOf(t, src, seed, 5)
	bad[0] ^= 1
	if err := st.WritePiece(5, bad); err != nil { // what a crash mid-write could leave
		t.Fatal(err)
	}
	_ = st.Close()
	if fileExists(final) {
		t.Fatal("the final name exists before completion")
	}

	st, have, err = openStorage(meta, final, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if countTrue(have) != 3 || !have[0] || !have[3] || !have[meta.NumPieces()-1] || have[5] {
		t.Fatalf("resumed pieces %v, want 0, 3 and the last", have)
	}
}

func TestStorageFinishRenamesAndSeedVerifies(t *testing.T) {
	src, meta := testTorrent(t, 300<<10, 64<<10)
	final := filepath.Join(t.TempDir(), meta.Info.Name)
	st, _, err := openStorage(meta, final, false, false)
	if err != nil {
		t.Fatal(err)
	}
	seed, _, err := openStorage(meta, src, true, false)
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	for i := range meta.NumPieces() {
		if err := st.WritePiece(i, pieceOf(t, src, seed, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	if fileExists(final+partSuffix) || !fileExists(final) {
		t.Fatal("finish did not rename the .part file")
	}
	sum, err := st.sha256Hex()
	if err != nil || len(sum) != 64 {
		t.Fatalf("sha256 %q, %v", sum, err)
	}
	_ = st.Close()
	assertSameFile(t, src, final)

	// A seeded file that does not match the torrent is refused.
	f, err := os.OpenFile(final, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteAt([]byte{0xff, 0xfe}, 70<<10)
	_ = f.Close()
	if _, _, err := openStorage(meta, final, true, false); !errors.Is(err, errIncomplete) {
		t.Fatalf("seeding a corrupt file: err %v, want errIncomplete", err)
	}
	// A leecher moves it back to .part and keeps its good pieces.
	st, have, err := openStorage(meta, final, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if fileExists(final) || countTrue(have) != meta.NumPieces()-1 || have[1] {
		t.Fatalf("after a corrupt final file: final exists %v, have %v", fileExists(final), have)
	}
}

// fullDisk fails every write as a full disk does.
type fullDisk struct{ file }

func (fullDisk) WriteAt([]byte, int64) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}
}

func TestStorageReportsFullDisk(t *testing.T) {
	src, meta := testTorrent(t, 256<<10, 64<<10)
	final := filepath.Join(t.TempDir(), meta.Info.Name)
	st, _, err := openStorage(meta, final, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seed, _, err := openStorage(meta, src, true, false)
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	if err := st.WritePiece(0, pieceOf(t, src, seed, 0)); err != nil {
		t.Fatal(err)
	}
	st.file = fullDisk{st.file}
	err = st.WritePiece(1, pieceOf(t, src, seed, 1))
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err %v, want ErrDiskFull wrapping ENOSPC", err)
	}
	_ = st.Close()
	// What was written before the disk filled is kept.
	st2, have, err := openStorage(meta, final, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if !have[0] || countTrue(have) != 1 {
		t.Fatalf("after a full disk: have %v, want piece 0", have)
	}
}

func TestSessionStopsWithDiskFullError(t *testing.T) {
	src, meta := testTorrent(t, 512<<10, 32<<10)
	seedCfg := testConfig(t, meta, src)
	seedCfg.Seed, seedCfg.Trusted = true, true
	seeder := startSession(t, seedCfg)
	s, err := New(leecherConfig(t, meta, t.TempDir(), "", seeder.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	s.store.file = fullDisk{s.store.file}
	r := runSession(t, s)
	err, ended := r.Wait(testTimeout)
	select {
	case <-r.Done():
		t.Fatal("completed on a full disk")
	default:
	}
	if !ended || !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Run ended %v with %v, want ErrDiskFull", ended, err)
	}
}
