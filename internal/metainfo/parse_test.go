package metainfo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/minibit-io/minibit/internal/generate"
)

// TestParseLibtorrentKnownAnswer parses a torrent that libtorrent 2.0.8 made of generated
// content (seed 7, 131077 bytes, 64 KiB pieces: three pieces, a padded layer) and checks the
// info-hashes libtorrent printed, and that MiniBit creates the same torrent from the same bytes.
func TestParseLibtorrentKnownAnswer(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "libtorrent-seed7-131077.torrent"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%x", m.InfoHashV1()); got != "b900cabc4c9c9ae0a323eaa771a11eecd169c02b" {
		t.Errorf("v1 info-hash %s", got)
	}
	if got := fmt.Sprintf("%x", m.InfoHashV2()); got != "33f4e163da23c394be1056b23ebc890b2a8dd02843002a4cd23f033b674b2574" {
		t.Errorf("v2 info-hash %s", got)
	}
	want := Info{Name: "seed7.bin", Length: 131077, PieceLength: 64 << 10}
	if diff := cmp.Diff(want, m.Info, cmpopts.IgnoreFields(Info{}, "PiecesRoot", "V1Pieces", "Files")); diff != "" {
		t.Errorf("info mismatch (-want +got):\n%s", diff)
	}
	if n := m.NumPieces(); n != 3 {
		t.Errorf("%d pieces, want 3", n)
	}
	path := filepath.Join(t.TempDir(), "seed7.bin")
	if err := generate.WriteFile(path, 7, 131077); err != nil {
		t.Fatal(err)
	}
	ours, err := Create(path, CreateOptions{PieceLength: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if ours.InfoHashV1() != m.InfoHashV1() || ours.InfoHashV2() != m.InfoHashV2() {
		t.Error("MiniBit's torrent of the same content has other info-hashes")
	}
}

// generic decodes a .torrent into maps, to be changed and re-encoded by the malformed cases.
func generic(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var d map[string]any
	if err := bencode.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func infoOf(d map[string]any) map[string]any { return d["info"].(map[string]any) }

func fileOf(d map[string]any) map[string]any {
	info := infoOf(d)
	tree := info["file tree"].(map[string]any)
	return tree[info["name"].(string)].(map[string]any)[""].(map[string]any)
}

func layersOf(d map[string]any) map[string]any { return d["piece layers"].(map[string]any) }

// malformed lists changes to a valid three-piece torrent (16 KiB pieces), each of which must
// make Parse fail, with a word the error must contain.
var malformed = []torrentChange{
	{"missing info", `"info"`, func(d map[string]any) { delete(d, "info") }},
	{"info not a dict", "info: not a bencoded dictionary", func(d map[string]any) { d["info"] = "x" }},
	{"announce not a string", "announce", func(d map[string]any) { d["announce"] = int64(1) }},
	{"missing name", `"name"`, func(d map[string]any) { delete(infoOf(d), "name") }},
	{"name not a string", `"name"`, func(d map[string]any) { infoOf(d)["name"] = int64(5) }},
	{"name with a slash", "separator", func(d map[string]any) { infoOf(d)["name"] = "a/b" }},
	{"name dot-dot", "not a file name", func(d map[string]any) { infoOf(d)["name"] = ".." }},
	{"missing length", `"length"`, func(d map[string]any) { delete(infoOf(d), "length") }},
	{"length a string", `"length"`, func(d map[string]any) { infoOf(d)["length"] = "40000" }},
	{"length a list", `"length"`, func(d map[string]any) { infoOf(d)["length"] = []any{int64(40000)} }},
	{"length zero", "empty", func(d map[string]any) { infoOf(d)["length"] = int64(0) }},
	{"length negative", "negative", func(d map[string]any) { infoOf(d)["length"] = int64(-1) }},
	{"missing piece length", `"piece length"`, func(d map[string]any) { delete(infoOf(d), "piece length") }},
	{"piece length a string", `"piece length"`, func(d map[string]any) { infoOf(d)["piece length"] = "16384" }},
	{"piece length not a power of two", "power of two", func(d map[string]any) { infoOf(d)["piece length"] = int64(3 * BlockSize) }},
	{"piece length too small", "minimum", func(d map[string]any) { infoOf(d)["piece length"] = int64(8192) }},
	{"piece length zero", "minimum", func(d map[string]any) { infoOf(d)["piece length"] = int64(0) }},
	{"piece length too large", "maximum", func(d map[string]any) { infoOf(d)["piece length"] = int64(1 << 40) }},
	{"missing meta version", `"meta version"`, func(d map[string]any) { delete(infoOf(d), "meta version") }},
	{"meta version 1", `"meta version"`, func(d map[string]any) { infoOf(d)["meta version"] = int64(1) }},
	{"missing pieces", `"pieces"`, func(d map[string]any) { delete(infoOf(d), "pieces") }},
	{"pieces an integer", `"pieces"`, func(d map[string]any) { infoOf(d)["pieces"] = int64(7) }},
	{"pieces one hash short", `"pieces"`, func(d map[string]any) {
		infoOf(d)["pieces"] = infoOf(d)["pieces"].(string)[20:]
	}},
	{"pieces not a multiple of 20", `"pieces"`, func(d map[string]any) { infoOf(d)["pieces"] = infoOf(d)["pieces"].(string) + "x" }},
	{"multi-file", "single-file", func(d map[string]any) { infoOf(d)["files"] = []any{} }},
	{"missing file tree", `"file tree"`, func(d map[string]any) { delete(infoOf(d), "file tree") }},
	{"file tree a string", `"file tree"`, func(d map[string]any) { infoOf(d)["file tree"] = "x" }},
	{"file tree with two files", "2 entries", func(d map[string]any) {
		infoOf(d)["file tree"].(map[string]any)["other"] = map[string]any{}
	}},
	{"v1 and v2 names disagree", "the v1 name is", func(d map[string]any) { infoOf(d)["name"] = "other.bin" }},
	{"v1 and v2 lengths disagree", "disagrees", func(d map[string]any) { fileOf(d)["length"] = int64(39_999) }},
	{"v2 length missing", `"length"`, func(d map[string]any) { delete(fileOf(d), "length") }},
	{"file is a directory", "directory", func(d map[string]any) {
		info := infoOf(d)
		info["file tree"].(map[string]any)[info["name"].(string)].(map[string]any)["sub"] = map[string]any{}
	}},
	{"missing pieces root", `"pieces root"`, func(d map[string]any) { delete(fileOf(d), "pieces root") }},
	{"pieces root too short", `"pieces root"`, func(d map[string]any) { fileOf(d)["pieces root"] = strings.Repeat("r", 31) }},
	{"missing piece layers", "missing the layer", func(d map[string]any) { delete(d, "piece layers") }},
	{"piece layers a list", `"piece layers"`, func(d map[string]any) { d["piece layers"] = []any{} }},
	{"layer one hash short", "layer is", func(d map[string]any) {
		for k, v := range layersOf(d) {
			layersOf(d)[k] = v.(string)[32:]
		}
	}},
	{"layer an integer", "not a string", func(d map[string]any) {
		for k := range layersOf(d) {
			layersOf(d)[k] = int64(1)
		}
	}},
	{"layer does not hash to the root", "does not hash", func(d map[string]any) {
		for k, v := range layersOf(d) {
			layersOf(d)[k] = strings.Repeat("z", 32) + v.(string)[32:]
		}
	}},
	{"layer of an unknown root", "unknown pieces root", func(d map[string]any) {
		layersOf(d)[strings.Repeat("u", 32)] = strings.Repeat("z", 96)
	}},
	{"pieces root changed", "does not hash", func(d map[string]any) {
		old := fileOf(d)["pieces root"].(string)
		root := strings.Repeat("q", 32)
		fileOf(d)["pieces root"] = root
		layersOf(d)[root] = layersOf(d)[old]
		delete(layersOf(d), old)
	}},
}

func validTorrent(t testing.TB) []byte {
	t.Helper()
	m, _ := create(t, 40_000, BlockSize)
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

func TestParseMalformed(t *testing.T) {
	valid := validTorrent(t)
	if _, err := Parse(valid); err != nil {
		t.Fatal(err)
	}
	checkRefused(t, valid, malformed)
}

// torrentChange is a change to a valid torrent's decoded form that Parse must refuse, with a
// word the error must contain.
type torrentChange struct {
	name   string
	want   string
	change func(d map[string]any)
}

// changed returns the .torrent valid after change.
func changed(t testing.TB, valid []byte, change func(d map[string]any)) []byte {
	t.Helper()
	d := generic(t, valid)
	change(d)
	data, err := bencode.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkRefused checks that Parse refuses each change of valid with its word.
func checkRefused(t *testing.T, valid []byte, changes []torrentChange) {
	t.Helper()
	for _, tc := range changes {
		_, err := Parse(changed(t, valid, tc.change))
		t.Logf("%s: %v", tc.name, err)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not mention %s", tc.name, err, tc.want)
		}
	}
}

func TestParseLayerOnOnePieceFile(t *testing.T) {
	m, _ := create(t, 1000, BlockSize)
	enc, _ := m.Encode()
	d := generic(t, enc)
	d["piece layers"] = map[string]any{string(m.Info.PiecesRoot[:]): string(m.Info.PiecesRoot[:])}
	data, _ := bencode.Marshal(d)
	if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), "one piece") {
		t.Fatalf("layer on a one-piece file: %v", err)
	}
}

// badBencode are inputs that are not a bencoded dictionary at all.
var badBencode = []string{
	"", "d", "de5:extra", "le", "i42e", "4:spam", "d4:infoi1ee", "d4:infod4:name",
	"d4:info" + strings.Repeat("l", 100_000), "d8:announce99999999999999999999:xe",
	"d4:infod6:lengthi-0eee", "d4:infod6:lengthi99999999999999999999999eee", "\x00\xff",
}

func TestParseNotBencode(t *testing.T) {
	for _, in := range badBencode {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%.40q): no error", in)
		}
	}
	valid := validTorrent(t)
	if _, err := Parse(append(valid, 'x')); err == nil {
		t.Error("trailing bytes: no error")
	}
	for _, n := range []int{1, len(valid) / 2, len(valid) - 1} {
		if _, err := Parse(valid[:n]); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
}

func TestLoadTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.torrent")
	if err := os.WriteFile(path, make([]byte, MaxTorrentSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("oversize .torrent: %v", err)
	}
}

// FuzzParse feeds Parse arbitrary bytes: it must never panic, and whatever it accepts must
// encode and parse back to the same torrent. The seed corpus (valid torrents, libtorrent's,
// every malformed case) runs as part of `go test`.
func FuzzParse(f *testing.F) {
	valid := validTorrent(f)
	f.Add(valid)
	if lt, err := os.ReadFile(filepath.Join("testdata", "libtorrent-seed7-131077.torrent")); err == nil {
		f.Add(lt)
	} else {
		f.Fatal(err)
	}
	for _, in := range badBencode {
		f.Add([]byte(in))
	}
	for _, tc := range malformed {
		f.Add(changed(f, valid, tc.change))
	}
	addMultiFileSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("Encode of a parsed torrent: %v", err)
		}
		again, err := Parse(enc)
		if err != nil {
			t.Fatalf("re-parsing an encoded torrent: %v", err)
		}
		if again.InfoHashV1() != m.InfoHashV1() || again.NumPieces() != m.NumPieces() {
			t.Fatal("a round trip changed the torrent")
		}
		if m.NumPieces() != len(m.Info.V1Pieces) || m.PieceLen(m.NumPieces()-1) <= 0 {
			t.Fatal("inconsistent piece geometry")
		}
		checkFileGeometry(t, m)
	})
}

// addMultiFileSeeds adds multi-file torrents to the fuzz corpus: ours, libtorrent's, and every
// hostile tree.
func addMultiFileSeeds(f *testing.F) {
	m, _ := createTree(f)
	valid, err := m.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	lt, err := os.ReadFile(filepath.Join("testdata", "libtorrent-tree.torrent"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(lt)
	for _, tc := range hostileTrees {
		f.Add(changed(f, valid, tc.change))
	}
}

// checkFileGeometry checks that an accepted torrent's files tile its piece space: each starts
// on a piece boundary, in order, every piece belongs to a file whose data it holds, and every
// path is safe.
func checkFileGeometry(t *testing.T, m *MetaInfo) {
	var end int64
	for _, f := range m.Info.Files {
		if f.Offset%m.Info.PieceLength != 0 || f.Offset < end || f.Length < 0 {
			t.Fatalf("file %q at offset %d (previous end %d)", f.Path, f.Offset, end)
		}
		if m.MultiFile() && validPath(f.Path) != nil {
			t.Fatalf("unsafe path %q accepted", f.Path)
		}
		end = f.Offset + f.Length
	}
	if end > m.Info.Length || m.Info.Length-end >= m.Info.PieceLength {
		t.Fatalf("files end at %d, the piece space at %d", end, m.Info.Length)
	}
	for i := range m.NumPieces() {
		file, off, dataLen := m.PieceFile(i)
		if file < 0 || dataLen <= 0 || dataLen > m.PieceLen(i) || off+int64(dataLen) > m.Info.Files[file].Length {
			t.Fatalf("piece %d: file %d offset %d data %d", i, file, off, dataLen)
		}
	}
}
