package metainfo

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// The attacker's side of multi-file parsing: a .torrent is bytes from the network (the tracker,
// a peer's ut_metadata), and peers create files at the paths it names.

func treeOf(d map[string]any) map[string]any { return infoOf(d)["file tree"].(map[string]any) }

func v1Of(d map[string]any) []any { return infoOf(d)["files"].([]any) }

// rename moves the top-level file "a-c" of the tree to name, in both the v2 tree and v1 list.
func rename(d map[string]any, name string) {
	tree := treeOf(d)
	tree[name] = tree["a-c"]
	delete(tree, "a-c")
	v1Of(d)[2].(map[string]any)["path"] = []any{name}
}

// pad is a v1 pad file entry.
func pad(n int64) map[string]any {
	return map[string]any{"attr": "p", "length": n, "path": []any{".pad", fmt.Sprint(n)}}
}

// hostileTrees are changes to the valid multi-file torrent of createTree that Parse must
// refuse, with a word the error must contain. The v1 list is [x.bin, pad, a-c, empty, y, pad,
// small, pad, z.bin].
var hostileTrees = []torrentChange{
	{"dot-dot element", "not a file name", func(d map[string]any) { rename(d, "..") }},
	{"dot element", "not a file name", func(d map[string]any) { rename(d, ".") }},
	{"empty element", "empty", func(d map[string]any) { rename(d, "") }},
	{"slash in an element", "separator", func(d map[string]any) { rename(d, "../../etc/passwd") }},
	{"absolute element", "separator", func(d map[string]any) { rename(d, "/etc/passwd") }},
	{"backslash in an element", "separator", func(d map[string]any) { rename(d, `..\..\x`) }},
	{"NUL in an element", "separator", func(d map[string]any) { rename(d, "a\x00b") }},
	{"element of 256 bytes", "255", func(d map[string]any) { rename(d, strings.Repeat("n", 256)) }},
	{"v1 absolute path", "disagrees", func(d map[string]any) {
		v1Of(d)[2].(map[string]any)["path"] = []any{"", "a-c"}
	}},
	{"v1 path with dot-dot", "disagrees", func(d map[string]any) {
		v1Of(d)[2].(map[string]any)["path"] = []any{"..", "a-c"}
	}},
	{"file that is also a directory", "both a file and a directory", func(d map[string]any) {
		treeOf(d)["a-c"].(map[string]any)["inside"] = map[string]any{"": map[string]any{"length": int64(0)}}
	}},
	{"same path twice in v1", "not in the file tree", func(d map[string]any) {
		infoOf(d)["files"] = append(v1Of(d), v1Of(d)[2])
	}},
	{"depth 65", "more than 64", func(d map[string]any) {
		node := map[string]any{"": map[string]any{"length": int64(0)}}
		for range MaxPathDepth {
			node = map[string]any{"d": node}
		}
		treeOf(d)["deep"] = node
	}},
	{"empty directory", "empty directory", func(d map[string]any) { treeOf(d)["nothing"] = map[string]any{} }},
	{"tree entry not a dict", "not a dict", func(d map[string]any) { treeOf(d)["x"] = int64(1) }},
	{"file entry not a dict", "not a dict", func(d map[string]any) { treeOf(d)["a-c"] = map[string]any{"": "x"} }},
	{"negative length", "length", func(d map[string]any) {
		treeOf(d)["a-c"].(map[string]any)[""].(map[string]any)["length"] = int64(-1)
	}},
	{"huge length", "length", func(d map[string]any) {
		treeOf(d)["a-c"].(map[string]any)[""].(map[string]any)["length"] = int64(1 << 62)
	}},
	{"missing pieces root", "pieces root", func(d map[string]any) {
		delete(treeOf(d)["a-c"].(map[string]any)[""].(map[string]any), "pieces root")
	}},
	{"no files at all", "no files", func(d map[string]any) { infoOf(d)["file tree"] = map[string]any{} }},
	{"missing file tree", "file tree", func(d map[string]any) { delete(infoOf(d), "file tree") }},
	{"both length and files", "single-file", func(d map[string]any) { infoOf(d)["length"] = int64(1) }},
	{"files not a list", "not a list", func(d map[string]any) { infoOf(d)["files"] = "x" }},
	{"v1 length disagrees", "disagrees", func(d map[string]any) {
		v1Of(d)[2].(map[string]any)["length"] = int64(32767)
	}},
	{"v1 order differs", "disagrees", func(d map[string]any) {
		l := v1Of(d)
		l[0], l[2] = l[2], l[0]
	}},
	{"v1 misses a file", "lists 5 of the file tree's 6 files", func(d map[string]any) {
		infoOf(d)["files"] = v1Of(d)[:8]
	}},
	{"v1 file not in the tree", "not in the file tree", func(d map[string]any) {
		infoOf(d)["files"] = append(v1Of(d), map[string]any{"length": int64(1), "path": []any{"zz"}})
	}},
	{"v1 symlink", "symbolic link", func(d map[string]any) { v1Of(d)[2].(map[string]any)["attr"] = "l" }},
	{"pad after a whole-piece file", "pad file", func(d map[string]any) {
		l := v1Of(d)
		infoOf(d)["files"] = append(l[:3:3], append([]any{pad(treePiece)}, l[3:]...)...)
	}},
	{"pad first", "pad file", func(d map[string]any) { infoOf(d)["files"] = append([]any{pad(100)}, v1Of(d)...) }},
	{"pad of the wrong length", "pad file", func(d map[string]any) { v1Of(d)[1] = pad(25535) }},
	{"two pads", "pad file", func(d map[string]any) {
		l := v1Of(d)
		infoOf(d)["files"] = append(l[:2:2], append([]any{pad(1)}, l[2:]...)...)
	}},
	{"pad missing", "piece boundary", func(d map[string]any) {
		l := v1Of(d)
		infoOf(d)["files"] = append(l[:1:1], l[2:]...)
	}},
	{"empty pad", "empty pad", func(d map[string]any) { v1Of(d)[1].(map[string]any)["length"] = int64(0) }},
	{"pieces one hash short", `"pieces"`, func(d map[string]any) {
		infoOf(d)["pieces"] = infoOf(d)["pieces"].(string)[20:]
	}},
	{"a root shared by files of different lengths", "share pieces root", func(d map[string]any) {
		x := treeOf(d)["a"].(map[string]any)["x.bin"].(map[string]any)[""].(map[string]any)
		small := treeOf(d)["sub"].(map[string]any)["small"].(map[string]any)[""].(map[string]any)
		small["pieces root"] = x["pieces root"]
	}},
	{"layer of an unknown root", "unknown pieces root", func(d map[string]any) {
		layersOf(d)[strings.Repeat("u", 32)] = strings.Repeat("z", 64)
	}},
	{"missing a layer", "missing the layer", func(d map[string]any) {
		x := treeOf(d)["a"].(map[string]any)["x.bin"].(map[string]any)[""].(map[string]any)
		delete(layersOf(d), x["pieces root"].(string))
	}},
	{"layer on a one-piece file", "one piece", func(d map[string]any) {
		small := treeOf(d)["sub"].(map[string]any)["small"].(map[string]any)[""].(map[string]any)
		layersOf(d)[small["pieces root"].(string)] = small["pieces root"]
	}},
}

func TestParseRefusesHostileTrees(t *testing.T) {
	m, _ := createTree(t)
	checkRefused(t, mustEncode(t, m, m.Announce), hostileTrees)
}

func TestParseRefusesTooManyFiles(t *testing.T) {
	m, _ := createTree(t)
	data := changed(t, mustEncode(t, m, ""), func(d map[string]any) {
		tree := treeOf(d)
		for k := range MaxFiles {
			tree[fmt.Sprintf("f%06d", k)] = map[string]any{"": map[string]any{"length": int64(0)}}
		}
	})
	if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), "more than 100000 files") {
		t.Fatalf("%d files: %v", MaxFiles+len(m.Info.Files), err)
	}
}

// TestParseRefusesNonCanonicalTrees: two readers of one info dict must see one tree, so a key
// given twice (the decoder keeps one of them, another client may keep the other) or keys out of
// order are refused.
func TestParseRefusesNonCanonicalTrees(t *testing.T) {
	m, _ := createTree(t)
	valid := mustEncode(t, m, "")
	entry := func(name string) []byte {
		f := m.Info.Files[1] // a-c
		return fmt.Appendf(nil, "%d:%sd0:d6:lengthi%de11:pieces root32:%see", len(name), name, f.Length, f.PiecesRoot[:])
	}
	acEntry := entry("a-c")
	if !bytes.Contains(valid, acEntry) {
		t.Fatal("test bug: a-c's entry not found")
	}
	for name, bad := range map[string][]byte{
		"duplicate key": bytes.Replace(valid, acEntry, append(bytes.Clone(acEntry), acEntry...), 1),
		"unsorted keys": bytes.Replace(valid, acEntry, append(entry("zz"), acEntry...), 1),
	} {
		if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), "unsorted") {
			t.Errorf("%s: %v", name, err)
		}
	}
	deep := []byte("d4:infod9:file tree" + strings.Repeat("d1:a", 100_000))
	if _, err := Parse(deep); err == nil {
		t.Error("a tree nested 100000 deep: no error")
	}
}
