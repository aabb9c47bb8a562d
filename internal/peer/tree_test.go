package peer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/minibit-io/minibit/internal/peer/peertest"
)

func TestTreeDownloadFinishesIntoPlace(t *testing.T) {
	ft := sampleTree(32 << 10)
	final := filepath.Join(t.TempDir(), "model")
	st, have := ft.mustOpen(t, final, false)
	if countTrue(have) != 0 {
		t.Fatalf("a fresh download has %d pieces", countTrue(have))
	}
	ft.writeAll(t, st)
	if fileExists(final) {
		t.Fatal("the final directory exists before finish")
	}
	if fileExists(filepath.Join(final+partSuffix, "a", "empty")) {
		t.Fatal("the empty file exists before finish")
	}
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	if fileExists(final + partSuffix) {
		t.Fatal("the .part directory is still there")
	}
	ft.assertTree(t, final)
	// Reads after the rename: a padded piece reads as its data then zeros.
	for i, want := range ft.pieces {
		got := make([]byte, len(want))
		if err := st.ReadAt(got, st.tree.lay.pieces.PieceOffset(i)); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("piece %d read back wrong after finish (%v)", i, err)
		}
	}
	// The finished tree seeds, verified.
	_, have = ft.mustOpen(t, final, true)
	if countTrue(have) != len(ft.pieces) {
		t.Fatalf("seeding the finished tree: %d of %d pieces", countTrue(have), len(ft.pieces))
	}
}

func TestTreeResumesVerifiedPiecesOnly(t *testing.T) {
	ft := sampleTree(16 << 10)
	final := filepath.Join(t.TempDir(), "model")
	st, _, err := ft.open(t, final, false, false)
	if err != nil {
		t.Fatal(err)
	}
	last := len(ft.pieces) - 1
	for _, i := range []int{0, 3, last} {
		if err := st.WritePiece(i, ft.pieces[i]); err != nil {
			t.Fatal(err)
		}
	}
	bad := bytes.Clone(ft.pieces[5])
	bad[0] ^= 1
	if err := st.WritePiece(5, bad); err != nil { // what a crash mid-write could leave
		t.Fatal(err)
	}
	_ = st.Close()
	st, have := ft.mustOpen(t, final, false)
	if countTrue(have) != 3 || !have[0] || !have[3] || !have[last] || have[5] {
		t.Fatalf("resumed pieces %v, want 0, 3 and the last", have)
	}
	ft.writeAll(t, st, 0, 3, last)
	ft.finishInto(t, st, final)
}

func TestTreeSeedChecksEveryFile(t *testing.T) {
	ft := sampleTree(16 << 10)
	dir := filepath.Join(t.TempDir(), "model")
	ft.finished(t, dir)
	// Trusted: sizes only.
	if _, have, err := ft.open(t, dir, true, true); err != nil || countTrue(have) != len(ft.pieces) {
		t.Fatalf("trusted seed: %v, %d pieces", err, countTrue(have))
	}
	small := filepath.Join(dir, "d", "e", "f", "g", "small")
	if err := os.WriteFile(small, []byte("short"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ft.open(t, dir, true, true); !errors.Is(err, errIncomplete) || !strings.Contains(err.Error(), "5 bytes") {
		t.Fatalf("a file of the wrong size, trusted: %v, want errIncomplete naming its size", err)
	}
	if err := os.WriteFile(small, bytes.Repeat([]byte{1}, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ft.open(t, dir, true, false); !errors.Is(err, errIncomplete) {
		t.Fatalf("a corrupt file: %v, want errIncomplete", err)
	}
	if err := os.Remove(filepath.Join(dir, "a", "empty")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ft.open(t, dir, true, true); !errors.Is(err, errIncomplete) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("a missing empty file: %v, want errIncomplete", err)
	}
}

func TestTreeUnverifiedFinalMovesBackToPart(t *testing.T) {
	ft := sampleTree(16 << 10)
	dir := filepath.Join(t.TempDir(), "model")
	ft.finished(t, dir)
	f, err := os.OpenFile(filepath.Join(dir, "c.txt"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteAt([]byte{0xff}, 10)
	_ = f.Close()
	// A stale .part beside it is replaced.
	if err := os.MkdirAll(filepath.Join(dir+partSuffix, "junk"), 0o755); err != nil {
		t.Fatal(err)
	}
	st, have := ft.mustOpen(t, dir, false)
	if fileExists(dir) || countTrue(have) != len(ft.pieces)-1 {
		t.Fatalf("final exists %v, %d of %d pieces kept", fileExists(dir), countTrue(have), len(ft.pieces))
	}
	if fileExists(filepath.Join(dir+partSuffix, "junk")) {
		t.Fatal("the stale .part's content survived")
	}
	for i := range have {
		if !have[i] {
			if err := st.WritePiece(i, ft.pieces[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	ft.finishInto(t, st, dir)
}

func TestTreeReportsFullDisk(t *testing.T) {
	ft := sampleTree(16 << 10)
	final := filepath.Join(t.TempDir(), "model")
	st, _ := ft.mustOpen(t, final, false)
	if err := st.WritePiece(0, ft.pieces[0]); err != nil {
		t.Fatal(err)
	}
	f, _, _ := st.tree.lay.pieceFile(1)
	st.tree.files[f] = fullDisk{st.tree.files[f]}
	err := st.WritePiece(1, ft.pieces[1])
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err %v, want ErrDiskFull wrapping ENOSPC", err)
	}
	_ = st.Close()
	_, have := ft.mustOpen(t, final, false)
	if !have[0] || countTrue(have) != 1 {
		t.Fatalf("after a full disk: have %v, want piece 0", have)
	}
}

// A tree with more files than the process may hold open is refused clearly at start.
func TestTreeRefusesMoreFilesThanOpenLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<24 {
		t.Skipf("limit of open files %d (%v)", lim.Cur, err)
	}
	files := make([]treeFile, lim.Cur)
	for i := range files {
		files[i].length = 1
	}
	if err := checkOpenFiles(files); err == nil || !strings.Contains(err.Error(), "ulimit") {
		t.Fatalf("%d files: %v", len(files), err)
	}
	if err := checkOpenFiles(files[:10]); err != nil {
		t.Fatal(err)
	}
}

// The same life with a real multi-file torrent (metainfo's PieceFile and pad checks): a seeder
// verifies the tree, a download resumes what verifies, finishes, and a corrupted final tree goes
// back to .part keeping its good pieces.
func TestTreeStorageWithRealTorrent(t *testing.T) {
	src, meta := peertest.Tree(t, "model", 16<<10)
	seed, have, err := openStorage(meta, src, true, false)
	if err != nil || countTrue(have) != meta.NumPieces() {
		t.Fatalf("seeding the tree: %v, %d of %d pieces", err, countTrue(have), meta.NumPieces())
	}
	defer seed.Close()
	piece := func(i int) []byte {
		data := make([]byte, meta.PieceLen(i))
		if err := seed.ReadAt(data, meta.PieceOffset(i)); err != nil || !meta.VerifyPiece(i, data) {
			t.Fatalf("piece %d read from the seeder: %v", i, err)
		}
		return data
	}
	final := filepath.Join(t.TempDir(), "model")
	st, _, err := openStorage(meta, final, false, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < meta.NumPieces(); i += 2 {
		if err := st.WritePiece(i, piece(i)); err != nil {
			t.Fatal(err)
		}
	}
	_ = st.Close()
	st, have, err = openStorage(meta, final, false, false)
	if err != nil || countTrue(have) != (meta.NumPieces()+1)/2 {
		t.Fatalf("resumed: %v, %d pieces", err, countTrue(have))
	}
	for i := 1; i < meta.NumPieces(); i += 2 {
		if err := st.WritePiece(i, piece(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	peertest.SameTree(t, src, final)

	f, err := os.OpenFile(filepath.Join(final, "shards", "model-00002.bin"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteAt([]byte{0xff, 0xfe, 0xfd}, 20<<10)
	_ = f.Close()
	st, have, err = openStorage(meta, final, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if fileExists(final) || countTrue(have) != meta.NumPieces()-1 {
		t.Fatalf("a corrupted final tree: still there %v, %d of %d pieces kept",
			fileExists(final), countTrue(have), meta.NumPieces())
	}
}

// A piece out of range or of the wrong length is an error, not a write.
func TestTreeWritePieceChecksItsArguments(t *testing.T) {
	ft := sampleTree(16 << 10)
	st, _ := ft.mustOpen(t, filepath.Join(t.TempDir(), "model"), false)
	for _, i := range []int{-1, len(ft.pieces)} {
		if err := st.WritePiece(i, nil); err == nil {
			t.Errorf("piece %d written", i)
		}
	}
	if err := st.WritePiece(0, ft.pieces[0][:100]); err == nil {
		t.Error("a short piece written")
	}
}
