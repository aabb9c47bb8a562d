package peer

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// fakeSpace is a piece space with plain SHA-256 piece hashes: the storage's tests of layouts
// that metainfo would refuse to build.
type fakeSpace struct {
	pieceLength, length int64
	hashes              [][32]byte
}

func (f *fakeSpace) NumPieces() int { return len(f.hashes) }

func (f *fakeSpace) PieceLen(i int) int {
	if i < 0 || i >= len(f.hashes) {
		return 0
	}
	return int(min(f.pieceLength, f.length-int64(i)*f.pieceLength))
}

func (f *fakeSpace) PieceOffset(i int) int64 { return int64(i) * f.pieceLength }

func (f *fakeSpace) VerifyPiece(i int, data []byte) bool {
	return len(data) == f.PieceLen(i) && sha256.Sum256(data) == f.hashes[i]
}

// pieceRef is one piece's place in a fake layout.
type pieceRef struct {
	file int
	off  int64
	n    int
}

// fakeTree is a multi-file payload laid out as metainfo lays it out: each file from a piece
// boundary, its last piece padded with zeros unless it is the torrent's last.
type fakeTree struct {
	lay    treeLayout
	pieces [][]byte // each piece's bytes, padding included
	data   map[string][]byte
}

// newFakeTree lays out files (path, content) with pieces of pieceLength bytes.
func newFakeTree(pieceLength int64, paths []string, contents [][]byte) *fakeTree {
	ft := &fakeTree{data: make(map[string][]byte)}
	sp := &fakeSpace{pieceLength: pieceLength}
	var refs []pieceRef
	for f, c := range contents {
		ft.lay.files = append(ft.lay.files, treeFile{rel: paths[f], length: int64(len(c))})
		ft.data[paths[f]] = c
		for off := int64(0); off < int64(len(c)); off += pieceLength {
			n := int(min(pieceLength, int64(len(c))-off))
			refs = append(refs, pieceRef{f, off, n})
			piece := make([]byte, pieceLength)
			copy(piece, c[off:])
			ft.pieces = append(ft.pieces, piece)
		}
	}
	last := len(ft.pieces) - 1
	if last >= 0 {
		ft.pieces[last] = ft.pieces[last][:refs[last].n]
	}
	sp.length = int64(last)*pieceLength + int64(len(ft.pieces[last]))
	for _, p := range ft.pieces {
		sp.hashes = append(sp.hashes, sha256.Sum256(p))
	}
	ft.lay.pieces = sp
	ft.lay.pieceFile = func(i int) (int, int64, int) { r := refs[i]; return r.file, r.off, r.n }
	return ft
}

// open is openStorage for the fake tree at path.
func (ft *fakeTree) open(t *testing.T, path string, seed, trusted bool) (*storage, []bool, error) {
	t.Helper()
	if err := ft.lay.check(); err != nil {
		return nil, nil, err
	}
	return treeOpener(nil, ft.lay, path).open(path, seed, trusted)
}

// mustOpen opens the fake tree and closes it at the end of the test.
func (ft *fakeTree) mustOpen(t *testing.T, path string, seed bool) (*storage, []bool) {
	t.Helper()
	st, have, err := ft.open(t, path, seed, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, have
}

// writeAll writes every piece but those in skip.
func (ft *fakeTree) writeAll(t *testing.T, st *storage, skip ...int) {
	t.Helper()
	for i, p := range ft.pieces {
		if slices.Contains(skip, i) {
			continue
		}
		if err := st.WritePiece(i, bytes.Clone(p)); err != nil {
			t.Fatal(err)
		}
	}
}

// finished writes every piece into a fresh download at dir and finishes it into place.
func (ft *fakeTree) finished(t *testing.T, dir string) {
	t.Helper()
	st, _ := ft.mustOpen(t, dir, false)
	ft.writeAll(t, st)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
}

// finishInto finishes st and checks the tree it renamed to dir.
func (ft *fakeTree) finishInto(t *testing.T, st *storage, dir string) {
	t.Helper()
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	ft.assertTree(t, dir)
}

// assertTree fails unless dir holds exactly the fake tree's files with their contents.
func (ft *fakeTree) assertTree(t *testing.T, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		want, ok := ft.data[filepath.ToSlash(rel)]
		got, rerr := os.ReadFile(p)
		if !ok || rerr != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: in the torrent %v, read error %v, or other bytes", rel, ok, rerr)
		}
		n++
		return nil
	})
	if err != nil || n != len(ft.data) {
		t.Fatalf("%s holds %d files (%v), want %d", dir, n, err, len(ft.data))
	}
}

// sampleTree is a small directory: nested directories, an empty file, files shorter and
// longer than a piece, two identical files.
func sampleTree(pieceLength int64) *fakeTree {
	gen := func(n int, seed byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = seed + byte(i*7+i/251)
		}
		return b
	}
	big := gen(int(pieceLength)*3+123, 1)
	return newFakeTree(pieceLength,
		[]string{"a/b/big.bin", "a/b/same.bin", "a/empty", "c.txt", "d/e/f/g/small"},
		[][]byte{big, bytes.Clone(big), nil, gen(int(pieceLength), 9), gen(100, 3)})
}
