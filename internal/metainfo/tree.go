package metainfo

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/anacrolix/torrent/bencode"
)

// Parsing a multi-file info dict: the v2 "file tree" gives the files and their roots; the v1
// "files" list must name the same files in the same order, each followed by a pad file exactly
// when its length is not a multiple of the piece length (libtorrent also pads the last file),
// so that every file starts on a piece boundary.

// maxSpace bounds the v1 piece space a torrent may describe (8 PiB), so that offsets never
// overflow.
const maxSpace = 1 << 53

// parseMultiInfo decodes the info dict raw, whose "name" info already holds, as a multi-file
// torrent. The dict is decoded in one pass and must be canonical bencode (sorted, unique keys),
// so that no client can read another file tree from the same bytes.
func parseMultiInfo(raw []byte, d dict, info Info) (Info, error) {
	var generic map[string]any
	if err := unmarshal(raw, &generic); err != nil {
		return Info{}, err
	}
	if again, err := bencode.Marshal(generic); err != nil || !bytes.Equal(again, raw) {
		return Info{}, errors.New("the info dict is not canonical bencode (unsorted or duplicate keys)")
	}
	tree, ok := generic["file tree"].(map[string]any)
	if !ok {
		return Info{}, errors.New(`missing "file tree", or it is not a dict (a hybrid torrent is required)`)
	}
	files, err := walkTree(tree)
	if err != nil {
		return Info{}, fmt.Errorf("file tree: %w", err)
	}
	if info.PieceLength, err = requiredInt(d, "piece length"); err != nil {
		return Info{}, err
	}
	if err := ValidPieceLength(info.PieceLength); err != nil {
		return Info{}, err
	}
	if info.Length, err = matchV1Files(generic["files"], files, info.PieceLength); err != nil {
		return Info{}, fmt.Errorf(`"files": %w`, err)
	}
	if info.Length == 0 {
		return Info{}, ErrEmptyFile
	}
	if err := parseGeometry(d, &info); err != nil {
		return Info{}, err
	}
	info.Files = files
	return info, nil
}

// walkTree lists the files of a v2 file tree in its order, checking every path.
func walkTree(tree map[string]any) ([]File, error) {
	var files []File
	if len(tree) == 0 {
		return nil, errors.New("has no files")
	}
	if err := walkDir(tree, nil, &files); err != nil {
		return nil, err
	}
	return files, nil
}

// walkDir appends the files under the directory node at path.
func walkDir(node map[string]any, path []string, files *[]File) error {
	keys := make([]string, 0, len(node))
	for k := range node {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := slices.Concat(path, []string{k})
		if err := validPath(p); err != nil {
			return err
		}
		child, ok := node[k].(map[string]any)
		if !ok {
			return fmt.Errorf("%q is not a dict", strings.Join(p, "/"))
		}
		entry, isFile := child[""]
		switch {
		case isFile && len(child) != 1:
			return fmt.Errorf("%q is both a file and a directory", strings.Join(p, "/"))
		case isFile:
			f, err := fileOfEntry(entry, p)
			if err != nil {
				return err
			}
			if len(*files) >= MaxFiles {
				return fmt.Errorf("has more than %d files", MaxFiles)
			}
			*files = append(*files, f)
		case len(child) == 0:
			return fmt.Errorf("%q is an empty directory", strings.Join(p, "/"))
		default:
			if err := walkDir(child, p, files); err != nil {
				return err
			}
		}
	}
	return nil
}

// fileOfEntry reads a file's length and pieces root from its "" entry.
func fileOfEntry(entry any, path []string) (File, error) {
	name := strings.Join(path, "/")
	e, ok := entry.(map[string]any)
	if !ok {
		return File{}, fmt.Errorf("%q: the file's entry is not a dict", name)
	}
	length, ok := e["length"].(int64)
	if !ok || length < 0 || length > maxSpace {
		return File{}, fmt.Errorf(`%q: "length" is missing, not an integer or out of range`, name)
	}
	f := File{Path: path, Length: length}
	if length == 0 {
		return f, nil
	}
	root, ok := e["pieces root"].(string)
	if !ok || len(root) != hashSize {
		return File{}, fmt.Errorf(`%q: "pieces root" is missing or not %d bytes`, name, hashSize)
	}
	copy(f.PiecesRoot[:], root)
	return f, nil
}

// matchV1Files checks that the v1 "files" list describes files, with pad files where BEP 47
// puts them, sets each file's Offset and returns the size of the v1 piece space.
func matchV1Files(raw any, files []File, pieceLength int64) (int64, error) {
	list, ok := raw.([]any)
	if !ok {
		return 0, errors.New("is not a list")
	}
	var off int64
	next := 0 // the next file of the tree
	padDue := false
	for k, item := range list {
		e, err := parseV1Entry(item)
		if err != nil {
			return 0, fmt.Errorf("entry %d: %w", k, err)
		}
		if e.pad {
			if !padDue || e.length != padLength(off, pieceLength) {
				return 0, fmt.Errorf("entry %d: a pad file of %d bytes where none belongs (only after a file whose length is not a multiple of the piece length, up to the boundary)", k, e.length)
			}
			off += e.length
			padDue = false
			continue
		}
		if next >= len(files) {
			return 0, fmt.Errorf("entry %d: %q is not in the file tree", k, strings.Join(e.path, "/"))
		}
		f := &files[next]
		if !slices.Equal(e.path, f.Path) || e.length != f.Length {
			return 0, fmt.Errorf("entry %d: %q of %d bytes disagrees with the file tree's %q of %d bytes",
				k, strings.Join(e.path, "/"), e.length, strings.Join(f.Path, "/"), f.Length)
		}
		if off%pieceLength != 0 {
			return 0, fmt.Errorf("entry %d: %q does not start on a piece boundary (a pad file is missing)", k, strings.Join(e.path, "/"))
		}
		f.Offset = off
		off += f.Length
		padDue = f.Length%pieceLength != 0
		next++
		if off > maxSpace {
			return 0, fmt.Errorf("the files add up to more than %d bytes", int64(maxSpace))
		}
	}
	if next != len(files) {
		return 0, fmt.Errorf("lists %d of the file tree's %d files", next, len(files))
	}
	return off, nil
}

// v1Entry is one entry of the v1 "files" list.
type v1Entry struct {
	path   []string
	length int64
	pad    bool
}

// parseV1Entry reads a v1 file entry: its length, path and whether it is a pad file (attr "p").
// A symbolic link (attr "l") is refused.
func parseV1Entry(item any) (v1Entry, error) {
	d, ok := item.(map[string]any)
	if !ok {
		return v1Entry{}, errors.New("is not a dict")
	}
	var e v1Entry
	if attr, has := d["attr"]; has {
		s, ok := attr.(string)
		if !ok {
			return v1Entry{}, errors.New(`"attr" is not a string`)
		}
		if strings.Contains(s, "l") {
			return v1Entry{}, errors.New("is a symbolic link (attr l): only regular files are shared")
		}
		e.pad = strings.Contains(s, "p")
	}
	if e.length, ok = d["length"].(int64); !ok || e.length < 0 || e.length > maxSpace {
		return v1Entry{}, errors.New(`"length" is missing, not an integer or out of range`)
	}
	if e.pad && e.length == 0 {
		return v1Entry{}, errors.New("is an empty pad file")
	}
	elems, ok := d["path"].([]any)
	if !ok {
		return v1Entry{}, errors.New(`"path" is missing or not a list`)
	}
	for _, el := range elems {
		s, ok := el.(string)
		if !ok {
			return v1Entry{}, errors.New(`"path" has an element that is not a string`)
		}
		e.path = append(e.path, s)
	}
	return e, nil
}
