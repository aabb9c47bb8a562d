package metainfo

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

// testFile is a file of a test directory: its slash path and length (content generated from
// the path, so that two files of the same path and length are identical).
type testFile struct {
	path   string
	length int64
	seed   uint64
}

// tree is the test directory of the multi-file tests, in 32 KiB pieces: files of 2, 1, 0 and
// 3 pieces, a file whose length is a multiple of the piece length, two identical files, and
// names whose slash-joined order differs from the element order ("a/x.bin" < "a-c").
var tree = []testFile{
	{"z.bin", 40_000, 1},
	{"a/x.bin", 40_000, 1},
	{"a-c", 32 << 10, 2},
	{"empty", 0, 3},
	{"sub/deeper/y", 70_000, 4},
	{"sub/small", 100, 5},
}

// treeOrder is tree's paths in the v2 file tree's order.
var treeOrder = [][]string{{"a", "x.bin"}, {"a-c"}, {"empty"}, {"sub", "deeper", "y"}, {"sub", "small"}, {"z.bin"}}

const treePiece = 32 << 10

// writeTree writes files of genBytes content under a new directory "payload" and returns it.
func writeTree(t testing.TB, files []testFile) string {
	t.Helper()
	return writeTreeOf(t, "payload", files, func(f testFile) []byte { return genBytes(f.seed, f.length) })
}

// writeTreeOf writes files, each of content(file), under a new directory name and returns it.
func writeTreeOf(t testing.TB, name string, files []testFile, content func(testFile) []byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, content(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// genBytes is length bytes of content from seed.
func genBytes(seed uint64, length int64) []byte {
	out := make([]byte, 0, length)
	for k := uint64(0); int64(len(out)) < length; k++ {
		sum := sha1.Sum([]byte{byte(seed), byte(k), byte(k >> 8), byte(k >> 16)})
		out = append(out, sum[:]...)
	}
	return out[:length]
}

// createTree makes the multi-file torrent of tree.
func createTree(t testing.TB) (*MetaInfo, string) {
	t.Helper()
	dir := writeTree(t, tree)
	m, err := CreateDir(dir, CreateOptions{PieceLength: treePiece, Announce: "http://127.0.0.1:6969/announce"})
	if err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// pieceSpace reads m's files under dir into its v1 piece space, pads as zeros.
func pieceSpace(t testing.TB, m *MetaInfo, dir string) []byte {
	t.Helper()
	space := make([]byte, m.Info.Length)
	for _, f := range m.Info.Files {
		data, err := os.ReadFile(filepath.Join(append([]string{dir}, f.Path...)...))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) != f.Length {
			t.Fatalf("%q: %d bytes, the torrent says %d", f.Path, len(data), f.Length)
		}
		copy(space[f.Offset:], data)
	}
	return space
}

// pieceOf is piece i of the piece space.
func pieceOf(m *MetaInfo, space []byte, i int) []byte {
	return space[m.PieceOffset(i) : m.PieceOffset(i)+int64(m.PieceLen(i))]
}

func TestCreateDirLayout(t *testing.T) {
	m, dir := createTree(t)
	if !m.MultiFile() || m.Info.Name != "payload" || m.Info.PiecesRoot != ([32]byte{}) {
		t.Fatalf("multi %v, name %q, root %x", m.MultiFile(), m.Info.Name, m.Info.PiecesRoot)
	}
	var paths [][]string
	for _, f := range m.Info.Files {
		paths = append(paths, f.Path)
	}
	if !slices.EqualFunc(paths, treeOrder, slices.Equal) {
		t.Fatalf("files in order %q, want %q", paths, treeOrder)
	}
	// Offsets: x 0 (2 pieces), a-c 2, empty 3, y 3 (3 pieces), small 6, z 7 (last, unpadded).
	wantOff := []int64{0, 2, 3, 3, 6, 7}
	for k, f := range m.Info.Files {
		if f.Offset != wantOff[k]*treePiece {
			t.Errorf("%q at offset %d, want %d", f.Path, f.Offset, wantOff[k]*treePiece)
		}
	}
	if m.Info.Length != 7*treePiece+40_000 || m.NumPieces() != 9 || m.PayloadBytes() != 40_000*2+32<<10+70_000+100 {
		t.Fatalf("space %d bytes, %d pieces, payload %d", m.Info.Length, m.NumPieces(), m.PayloadBytes())
	}
	x, z := m.Info.Files[0], m.Info.Files[5]
	if x.PiecesRoot != z.PiecesRoot || m.Info.Files[2].PiecesRoot != ([32]byte{}) {
		t.Error("identical files do not share their root, or the empty file has one")
	}
	space := pieceSpace(t, m, dir)
	for k, f := range m.Info.Files {
		data := space[f.Offset : f.Offset+f.Length]
		root, layer := refTree(data, treePiece)
		if f.Length > 0 && root != f.PiecesRoot {
			t.Errorf("%q: root differs from the reference", f.Path)
		}
		if !slices.Equal(layer, m.FilePieceLayer(k)) {
			t.Errorf("%q: piece layer differs from the reference", f.Path)
		}
	}
	checkV1Pieces(t, m, space)
	for i := range m.NumPieces() {
		if !m.VerifyPiece(i, pieceOf(m, space, i)) {
			t.Errorf("piece %d fails", i)
		}
	}
	if v2 := m.InfoHashV2(); m.ContentID() != "sha256:"+hex.EncodeToString(v2[:]) {
		t.Errorf("ContentID %s", m.ContentID())
	}
}

func TestPieceFileAndRoot(t *testing.T) {
	m, _ := createTree(t)
	want := []struct {
		file    int
		off     int64
		dataLen int
		index   int
	}{
		{0, 0, treePiece, 0}, {0, treePiece, 40_000 - treePiece, 1}, // x.bin, then padding
		{1, 0, treePiece, 0}, // a-c, a whole piece
		{3, 0, treePiece, 0}, {3, treePiece, treePiece, 1}, {3, 2 * treePiece, 70_000 - 2*treePiece, 2},
		{4, 0, 100, 0},                                              // small, then padding
		{5, 0, treePiece, 0}, {5, treePiece, 40_000 - treePiece, 1}, // z.bin, the last piece short
	}
	for i, w := range want {
		file, off, dataLen := m.PieceFile(i)
		root, index := m.PieceRoot(i)
		if file != w.file || off != w.off || dataLen != w.dataLen || index != w.index || root != m.Info.Files[w.file].PiecesRoot {
			t.Errorf("piece %d: file %d off %d data %d index %d, want %+v", i, file, off, dataLen, index, w)
		}
		if got := m.LeafIndex(i); got != w.index*m.PieceLeaves(i) {
			t.Errorf("piece %d: leaf index %d", i, got)
		}
	}
	if m.PieceLeaves(6) != 1 || m.PieceLeaves(0) != 2 || m.PieceLen(8) != 40_000-treePiece {
		t.Errorf("leaves %d, %d; last piece %d bytes", m.PieceLeaves(6), m.PieceLeaves(0), m.PieceLen(8))
	}
	if f, _, _ := m.PieceFile(9); f != -1 {
		t.Error("a piece past the end has a file")
	}
	if first, count := m.FilePieces(3); first != 3 || count != 3 {
		t.Errorf("FilePieces(3) = %d, %d", first, count)
	}
}

func TestVerifyPieceChecksThePadding(t *testing.T) {
	m, dir := createTree(t)
	space := pieceSpace(t, m, dir)
	piece := bytes.Clone(pieceOf(m, space, 6)) // small: 100 bytes of data, then zeros
	piece[len(piece)-1] = 1
	if m.VerifyPiece(6, piece) {
		t.Fatal("a piece whose padding is not zero passes")
	}
	piece = bytes.Clone(pieceOf(m, space, 1))
	piece[0] ^= 1
	if m.VerifyPiece(1, piece) {
		t.Fatal("a corrupt piece passes")
	}
}

func TestMultiFileLeaves(t *testing.T) {
	m, dir := createTree(t)
	space := pieceSpace(t, m, dir)
	for i := range m.NumPieces() {
		leaves := m.LeafHashes(i, pieceOf(m, space, i))
		if len(leaves) != m.PieceLeaves(i)*32 || !m.VerifyLeaves(i, leaves) {
			t.Fatalf("piece %d: leaves do not prove it", i)
		}
		root, index := m.PieceRoot(i)
		piece, k, ok := m.LeafPiece(root, m.LeafIndex(i))
		if !ok || k != 0 || (piece != i && m.PieceHash(piece) != m.PieceHash(i)) || index < 0 {
			t.Fatalf("LeafPiece of piece %d's first leaf: %d, %d, %v", i, piece, k, ok)
		}
	}
	if _, _, ok := m.LeafPiece(m.Info.Files[3].PiecesRoot, 3*m.PieceLeaves(3)); ok {
		t.Error("a leaf past the file's end is located")
	}
}

func TestEncodeParseMultiFile(t *testing.T) {
	m, dir := createTree(t)
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(enc)
	if err != nil {
		t.Fatal(err)
	}
	if again.InfoHashV1() != m.InfoHashV1() || again.InfoHashV2() != m.InfoHashV2() {
		t.Fatal("info-hashes change in a round trip")
	}
	if !slices.EqualFunc(again.Info.Files, m.Info.Files, fileEqual) || again.Info.Length != m.Info.Length {
		t.Fatalf("files change in a round trip: %+v", again.Info.Files)
	}
	space := pieceSpace(t, again, dir)
	for i := range again.NumPieces() {
		if !again.VerifyPiece(i, pieceOf(again, space, i)) {
			t.Errorf("piece %d fails after a round trip", i)
		}
	}
	var top struct {
		Layers map[string]string `bencode:"piece layers"`
	}
	if err := bencode.Unmarshal(enc, &top); err != nil || len(top.Layers) != 2 {
		t.Fatalf("%d piece layers (%v), want 2: x.bin and z.bin share one, y has one", len(top.Layers), err)
	}
}

func fileEqual(a, b File) bool {
	return slices.Equal(a.Path, b.Path) && a.Length == b.Length && a.PiecesRoot == b.PiecesRoot && a.Offset == b.Offset
}

func TestV1FilesHavePads(t *testing.T) {
	m, _ := createTree(t)
	var info struct {
		Files []v1File `bencode:"files"`
	}
	if err := bencode.Unmarshal(m.InfoBytes(), &info); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range info.Files {
		got = append(got, f.Attr+":"+strings.Join(f.Path, "/"))
	}
	want := []string{":a/x.bin", "p:.pad/25536", ":a-c", ":empty", ":sub/deeper/y", "p:.pad/28304",
		":sub/small", "p:.pad/32668", ":z.bin"}
	if !slices.Equal(got, want) {
		t.Fatalf("v1 files %q, want %q", got, want)
	}
}

func TestFromInfoBytesThenLayers(t *testing.T) {
	m, dir := createTree(t)
	partial, err := FromInfoBytes(m.InfoBytes(), "http://t/announce")
	if err != nil {
		t.Fatal(err)
	}
	if partial.InfoHashV2() != m.InfoHashV2() || partial.Announce != "http://t/announce" {
		t.Fatal("FromInfoBytes changed the torrent")
	}
	need := partial.NeedsPieceLayers()
	if !slices.Equal(need, []int{0, 3}) {
		t.Fatalf("NeedsPieceLayers %v, want [0 3] (z.bin shares x.bin's root)", need)
	}
	space := pieceSpace(t, m, dir)
	if partial.VerifyPiece(0, pieceOf(m, space, 0)) {
		t.Fatal("a piece verifies without its piece layer")
	}
	if _, err := partial.Encode(); err == nil {
		t.Fatal("Encode without the piece layers: no error")
	}
	bad := slices.Clone(m.FilePieceLayer(3))
	bad[0][0] ^= 1
	for _, tc := range []struct {
		file   int
		hashes [][32]byte
	}{{3, bad}, {3, bad[:2]}, {1, nil}, {2, nil}, {-1, nil}, {6, nil}, {0, m.FilePieceLayer(3)}} {
		if err := partial.SetPieceLayer(tc.file, tc.hashes); err == nil {
			t.Errorf("SetPieceLayer(%d, %d hashes): no error", tc.file, len(tc.hashes))
		}
	}
	for _, k := range need {
		if err := partial.SetPieceLayer(k, m.FilePieceLayer(k)); err != nil {
			t.Fatal(err)
		}
	}
	if len(partial.NeedsPieceLayers()) != 0 {
		t.Fatal("layers still missing")
	}
	for i := range partial.NumPieces() {
		if !partial.VerifyPiece(i, pieceOf(m, space, i)) {
			t.Errorf("piece %d fails", i)
		}
	}
	if enc, err := partial.Encode(); err != nil || !bytes.Equal(enc, mustEncode(t, m, "http://t/announce")) {
		t.Fatalf("Encode after SetPieceLayer differs (%v)", err)
	}
}

func mustEncode(t *testing.T, m *MetaInfo, announce string) []byte {
	t.Helper()
	copied := *m
	copied.Announce = announce
	enc, err := copied.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

func TestEncodeV1Twin(t *testing.T) {
	for _, single := range []bool{false, true} {
		var m *MetaInfo
		var space []byte
		if single {
			var path string
			m, path = create(t, 100_000, BlockSize)
			space, _ = os.ReadFile(path)
		} else {
			var dir string
			m, dir = createTree(t)
			space = pieceSpace(t, m, dir)
		}
		torrent, hash, err := m.EncodeV1Twin()
		if err != nil {
			t.Fatal(err)
		}
		var top struct {
			Announce string        `bencode:"announce"`
			Info     bencode.Bytes `bencode:"info"`
		}
		if err := bencode.Unmarshal(torrent, &top); err != nil {
			t.Fatal(err)
		}
		if hash == m.InfoHashV1() || hash != sha1.Sum(top.Info) || top.Announce != m.Announce {
			t.Fatalf("single %v: twin's info-hash %x (ours %x), announce %q", single, hash, m.InfoHashV1(), top.Announce)
		}
		var info map[string]any
		if err := bencode.Unmarshal(top.Info, &info); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"file tree", "meta version"} {
			if _, ok := info[key]; ok {
				t.Errorf("the twin has %q", key)
			}
		}
		pieces := info["pieces"].(string)
		if len(pieces) != 20*m.NumPieces() || info["piece length"].(int64) != m.Info.PieceLength {
			t.Fatalf("twin has %d bytes of pieces", len(pieces))
		}
		for i := range m.NumPieces() {
			if sum := sha1.Sum(pieceOf(m, space, i)); string(sum[:]) != pieces[20*i:20*i+20] {
				t.Errorf("single %v: twin's piece %d does not verify", single, i)
			}
		}
		if _, hasFiles := info["files"]; hasFiles == single {
			t.Errorf("single %v: twin has files %v", single, hasFiles)
		}
	}
}

func TestCreateDirRefusesSpecialFiles(t *testing.T) {
	for name, make := range map[string]func(path string) error{
		"symlink":  func(path string) error { return os.Symlink("/etc/passwd", path) },
		"dir link": func(path string) error { return os.Symlink("/etc", path) },
		"fifo":     func(path string) error { return syscall.Mkfifo(path, 0o644) },
	} {
		dir := writeTree(t, tree[:2])
		if err := make(filepath.Join(dir, "a", "special")); err != nil {
			t.Fatal(err)
		}
		_, err := CreateDir(dir, CreateOptions{PieceLength: treePiece})
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: %v, want a not-a-regular-file error", name, err)
		}
		if name == "fifo" { // Create of the FIFO itself is refused without opening it (which blocks)
			if _, err := Create(filepath.Join(dir, "a", "special"), CreateOptions{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("Create of a FIFO: %v", err)
			}
		}
	}
}

func TestCreateDirEmptyAndOptions(t *testing.T) {
	dir := writeTree(t, []testFile{{"e1", 0, 1}, {"d/e2", 0, 2}})
	if err := os.MkdirAll(filepath.Join(dir, "only", "dirs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateDir(dir, CreateOptions{}); !errors.Is(err, ErrEmptyFile) {
		t.Errorf("only empty files: %v, want ErrEmptyFile", err)
	}
	if _, err := CreateDir(t.TempDir(), CreateOptions{}); err == nil || !strings.Contains(err.Error(), "no files") {
		t.Errorf("empty directory: %v", err)
	}
	if _, err := CreateDir(writeTree(t, tree), CreateOptions{Include: []string{"[a"}}); err == nil {
		t.Error("bad glob: no error")
	}
	m, err := CreateDir(writeTree(t, []testFile{{"one", 5, 1}}), CreateOptions{Name: "named"})
	if err != nil || m.Info.Name != "named" || !m.MultiFile() || len(m.Info.Files) != 1 {
		t.Fatalf("one-file directory: %v", err)
	}
	if _, err := Parse(mustEncode(t, m, "")); err != nil {
		t.Fatalf("one-file directory torrent does not parse: %v", err)
	}
	var calls []int64
	_, err = CreateDir(writeTree(t, tree), CreateOptions{PieceLength: treePiece, Progress: func(done, total int64) {
		if total != 40_000*2+32<<10+70_000+100 {
			t.Errorf("progress total %d", total)
		}
		calls = append(calls, done)
	}})
	if err != nil || len(calls) != 9 || calls[7] != 175636 || calls[8] != 182868 {
		t.Fatalf("progress calls %v (%v)", calls, err)
	}
}

func TestIncludeExclude(t *testing.T) {
	dir := writeTree(t, tree)
	for _, tc := range []struct {
		include, exclude []string
		want             []string
	}{
		{nil, nil, []string{"a/x.bin", "a-c", "empty", "sub/deeper/y", "sub/small", "z.bin"}},
		{[]string{"*.bin"}, nil, []string{"z.bin"}},
		{[]string{"**/*.bin"}, nil, []string{"a/x.bin", "z.bin"}},
		{[]string{"sub/**"}, nil, []string{"sub/deeper/y", "sub/small"}},
		{nil, []string{"sub/**", "empty"}, []string{"a/x.bin", "a-c", "z.bin"}},
		{[]string{"**"}, []string{"**/y", "a*"}, []string{"a/x.bin", "empty", "sub/small", "z.bin"}}, // a* is one element
		{[]string{"**/**/small"}, nil, []string{"sub/small"}},
	} {
		m, err := CreateDir(dir, CreateOptions{PieceLength: treePiece, Include: tc.include, Exclude: tc.exclude})
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		var got []string
		for _, f := range m.Info.Files {
			got = append(got, strings.Join(f.Path, "/"))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("include %q exclude %q: %q, want %q", tc.include, tc.exclude, got, tc.want)
		}
	}
}

func TestAutoPieceLength(t *testing.T) {
	for _, tc := range []struct{ total, want int64 }{
		{0, DefaultPieceLength}, {1, DefaultPieceLength}, {8 << 30, DefaultPieceLength},
		{8<<30 + 1, 512 << 10}, {16 << 30, 512 << 10}, {100 << 30, 4 << 20},
		{512 << 30, 16 << 20}, {1 << 40, 16 << 20}, {8 << 40, 16 << 20},
	} {
		if got := AutoPieceLength(tc.total); got != tc.want {
			t.Errorf("AutoPieceLength(%d) = %d, want %d", tc.total, got, tc.want)
		}
		if ValidPieceLength(AutoPieceLength(tc.total)) != nil {
			t.Errorf("AutoPieceLength(%d) is not a valid piece length", tc.total)
		}
	}
}

func TestMaxTorrentBytesForBoundsRealTorrents(t *testing.T) {
	long := strings.Repeat("n", 255)
	files := []testFile{{"one", 1, 1}, {long + "/" + long + "/" + long, 3 * BlockSize, 2}}
	for k := range 50 {
		files = append(files, testFile{"many/" + long[:200] + string(rune('a'+k%26)) + string(rune('a'+k/26)), int64(k*777 + 1), uint64(k)})
	}
	m, err := CreateDir(writeTree(t, files), CreateOptions{PieceLength: BlockSize})
	if err != nil {
		t.Fatal(err)
	}
	enc := mustEncode(t, m, "http://127.0.0.1:6969/announce")
	if limit := MaxTorrentBytesFor(m.PayloadBytes(), BlockSize, len(m.Info.Files)); int64(len(enc)) > limit {
		t.Fatalf("torrent of %d bytes, bound %d", len(enc), limit)
	}
	single, _ := create(t, 10*BlockSize+1, BlockSize)
	if enc := mustEncode(t, single, single.Announce); int64(len(enc)) > MaxTorrentBytesFor(10*BlockSize+1, BlockSize, 1) {
		t.Fatal("single-file torrent over its bound")
	}
	// 100 GiB in Auto pieces: a few MiB, far under the tracker's default 64 MiB.
	if got := MaxTorrentBytesFor(100<<30, AutoPieceLength(100<<30), 1000); got > 16<<20 {
		t.Errorf("bound for 100 GiB in 1000 files: %d", got)
	}
}
