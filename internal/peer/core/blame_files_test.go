package core

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
)

// treeCore is a core for a multi-file torrent in 64 KiB pieces: "a" and its copy "b" (200 KiB,
// 4 pieces of 4 leaves), "c" (40 KiB: one piece, its 3 blocks padded to 4 leaves), "d"
// (10 KiB: one leaf, not askable).
func treeCore(t *testing.T) *Core {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tree")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name       string
		seed, size int64
	}{{"a", 1, 200 << 10}, {"b", 1, 200 << 10}, {"c", 2, 40 << 10}, {"d", 3, 10 << 10}} {
		if err := generate.WriteFile(filepath.Join(dir, f.name), uint64(f.seed), f.size); err != nil {
			t.Fatal(err)
		}
	}
	meta, err := metainfo.CreateDir(dir, metainfo.CreateOptions{PieceLength: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Torrent: meta, RandSeed: 1}, nil, time.Unix(1000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPieceRangeNamesTheFile: a multi-file piece's hash request names its own file's root and
// its leaves' index in that file; the answer maps back to the piece (to a copy's piece when two
// files share a root and the copy's piece is the one waiting).
func TestPieceRangeNamesTheFile(t *testing.T) {
	c := treeCore(t)
	meta := c.meta
	for i := range meta.NumPieces() {
		r, ok := c.pieceRange(i)
		file, _, _ := meta.PieceFile(i)
		_, index := meta.PieceRoot(i)
		if ok != (meta.PieceLeaves(i) >= 2) {
			t.Fatalf("piece %d: askable %v with %d leaves", i, ok, meta.PieceLeaves(i))
		}
		if !ok {
			continue
		}
		if r.PiecesRoot != meta.Info.Files[file].PiecesRoot || int(r.Index) != index*meta.PieceLeaves(i) || int(r.Length) != meta.PieceLeaves(i) {
			t.Fatalf("piece %d: range %+v", i, r)
		}
		got, ok := c.pieceOfRange(r)
		// A copy's piece (file 1 holds a's bytes) maps back to a's piece of the same index.
		first, _ := meta.FilePieces(0)
		sameRootCopy := file == 1 && got == first+index
		if !ok || (got != i && !sameRootCopy) {
			t.Fatalf("piece %d: pieceOfRange = %d, %v", i, got, ok)
		}
	}
	// Piece 5 is b's second piece, the same range as a's (piece 1).
	r, _ := c.pieceRange(5)
	if a, _ := c.pieceRange(1); a != r {
		t.Fatal("identical files ask different ranges")
	}
	c.blame.suspects = map[int]*suspect{5: {pending: 7}, 1: {pending: 8}}
	if piece, ok := c.pendingPiece(r, 7); !ok || piece != 5 {
		t.Fatalf("answer from 7 maps to %d, %v; want b's piece 5", piece, ok)
	}
	if piece, ok := c.pendingPiece(r, 8); !ok || piece != 1 {
		t.Fatalf("answer from 8 maps to %d, %v; want a's piece 1", piece, ok)
	}
	if _, ok := c.pendingPiece(r, 9); ok {
		t.Fatal("an answer nobody waits for is taken")
	}
}

// TestCanServeFileRanges: we answer a range of one file's pieces we have, by its root.
func TestCanServeFileRanges(t *testing.T) {
	c := treeCore(t)
	r, _ := c.pieceRange(8) // c's only piece
	if c.canServe(r) {
		t.Fatal("served a piece we do not have")
	}
	c.picker.MarkHave(8)
	if !c.canServe(r) {
		t.Fatal("refused a piece we have")
	}
	r.Index += 4
	if c.canServe(r) {
		t.Fatal("served leaves past the file's end")
	}
	r, _ = c.pieceRange(8)
	r.PiecesRoot[0] ^= 1
	if c.canServe(r) {
		t.Fatal("served an unknown root")
	}
}
