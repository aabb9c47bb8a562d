package metainfo

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Multi-file torrents against libtorrent 2.0.8 (python3-libtorrent): it loads ours (and our v1
// twins) with the same info-hashes and files; we load its torrents, whose last file is padded
// too, and verify their pieces.

// ltView is libtorrent's description of a torrent (testdata/libtorrent_create.py --load).
type ltView struct {
	V1, V2 string
	Files  [][3]any // path (name first, "/"-joined), size, offset; pad files left out
}

func libtorrentLoad(t *testing.T, path string) ltView {
	t.Helper()
	var v ltView
	if err := json.Unmarshal([]byte(runPython(t, "libtorrent_create.py", "--load", path)), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// ourView is MiniBit's description of a torrent in libtorrent's terms.
func ourView(m *MetaInfo, v1 [20]byte, v2 string) ltView {
	v := ltView{V1: fmt.Sprintf("%x", v1), V2: v2}
	for _, f := range m.Info.Files {
		v.Files = append(v.Files, [3]any{strings.Join(append([]string{m.Info.Name}, f.Path...), "/"), float64(f.Length), float64(f.Offset)})
	}
	return v
}

// writeTorrent writes data to a new file and returns its path.
func writeTorrent(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.torrent")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestInteropLibtorrentLoadsOurTree(t *testing.T) {
	m, _ := createTree(t)
	got := libtorrentLoad(t, writeTorrent(t, mustEncode(t, m, m.Announce)))
	if want := ourView(m, m.InfoHashV1(), fmt.Sprintf("%x", m.InfoHashV2())); !viewsEqual(got, want) {
		t.Errorf("libtorrent sees %+v, we made %+v", got, want)
	}
	twin, hash, err := m.EncodeV1Twin()
	if err != nil {
		t.Fatal(err)
	}
	got = libtorrentLoad(t, writeTorrent(t, twin))
	if want := ourView(m, hash, ""); !viewsEqual(got, want) {
		t.Errorf("libtorrent sees the twin as %+v, we made %+v", got, want)
	}
}

func viewsEqual(a, b ltView) bool {
	return a.V1 == b.V1 && a.V2 == b.V2 && slices.Equal(a.Files, b.Files)
}

// ltTree is the content of testdata/libtorrent-tree.torrent's files (see
// testdata/libtorrent_create.py): SHA-256 of "<length>:<k>" for k = 0, 1, ...
func ltContent(length int64) []byte {
	out := make([]byte, 0, length+sha256.Size)
	for k := 0; int64(len(out)) < length; k++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%d:%d", length, k))
		out = append(out, sum[:]...)
	}
	return out[:length]
}

// writeLtTree writes the files of libtorrent_create.py's TREE under a new directory lt-tree.
func writeLtTree(t *testing.T) string {
	t.Helper()
	return writeTreeOf(t, "lt-tree", tree, func(f testFile) []byte { return ltContent(f.length) })
}

// checkLibtorrentTree checks a libtorrent torrent of writeLtTree's directory against our own
// torrent of it: the same files, offsets and roots, and every piece of its piece space (its
// last file padded too) verifies.
func checkLibtorrentTree(t *testing.T, theirs *MetaInfo, dir string) {
	t.Helper()
	ours, err := CreateDir(dir, CreateOptions{PieceLength: treePiece})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(theirs.Info.Files, ours.Info.Files, fileEqual) || theirs.Info.Name != ours.Info.Name {
		t.Fatalf("libtorrent's files %+v, ours %+v", theirs.Info.Files, ours.Info.Files)
	}
	if theirs.Info.Length != ours.Info.Length+(treePiece-40_000%treePiece) {
		t.Errorf("libtorrent's piece space is %d bytes, ours %d (it pads the last file)", theirs.Info.Length, ours.Info.Length)
	}
	space := pieceSpace(t, theirs, dir)
	for i := range theirs.NumPieces() {
		if !theirs.VerifyPiece(i, pieceOf(theirs, space, i)) {
			t.Errorf("piece %d fails against libtorrent's torrent", i)
		}
	}
	enc, err := theirs.Encode()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(enc)
	if err != nil || again.InfoHashV2() != theirs.InfoHashV2() {
		t.Fatalf("re-encoding libtorrent's torrent: %v", err)
	}
}

// TestLibtorrentTreeKnownAnswer loads the checked-in multi-file torrent libtorrent made.
func TestLibtorrentTreeKnownAnswer(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "libtorrent-tree.torrent"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%x", m.InfoHashV1()); got != "3b16b27bb47dfe81fc77dab1c46eb4a40ec3f616" {
		t.Errorf("v1 info-hash %s", got)
	}
	checkLibtorrentTree(t, m, writeLtTree(t))
}

// TestInteropLibtorrentCreatesTree has libtorrent make a torrent of a directory now.
func TestInteropLibtorrentCreatesTree(t *testing.T) {
	dir := writeLtTree(t)
	out := filepath.Join(t.TempDir(), "lt.torrent")
	v1, v2 := twoHashes(t, runPython(t, "libtorrent_create.py", dir, fmt.Sprint(treePiece), out))
	m, err := Load(out)
	if err != nil {
		t.Fatalf("parsing libtorrent's torrent: %v", err)
	}
	if fmt.Sprintf("%x", m.InfoHashV1()) != v1 || fmt.Sprintf("%x", m.InfoHashV2()) != v2 {
		t.Error("info-hashes differ from libtorrent's")
	}
	checkLibtorrentTree(t, m, dir)
}

// TestInteropSameTorrentAsLibtorrent: when the last file needs no pad (here it is empty),
// libtorrent and MiniBit make the same multi-file info dict, so the same info-hashes: same
// order, same pads (also before an empty file), same empty-file entries.
func TestInteropSameTorrentAsLibtorrent(t *testing.T) {
	dir := writeTree(t, []testFile{{"a", 100, 1}, {"b", 0, 2}, {"c/d", 100, 3}, {"c/e", 2 * BlockSize, 4}, {"f", 0, 5}})
	ours, err := CreateDir(dir, CreateOptions{PieceLength: BlockSize})
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := twoHashes(t, runPython(t, "libtorrent_create.py", dir, fmt.Sprint(BlockSize), filepath.Join(t.TempDir(), "lt.torrent")))
	if fmt.Sprintf("%x", ours.InfoHashV1()) != v1 || fmt.Sprintf("%x", ours.InfoHashV2()) != v2 {
		t.Errorf("our info-hashes %x %x, libtorrent's %s %s", ours.InfoHashV1(), ours.InfoHashV2(), v1, v2)
	}
}
