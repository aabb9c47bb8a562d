package metainfo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/anacrolix/torrent/bencode"
)

// MaxTorrentSize bounds the size of a .torrent file that Load reads (a 1 TiB file in 256 KiB
// pieces needs about 210 MiB of hashes; MiniBit's files are far smaller).
const MaxTorrentSize = 64 << 20

// dict is a bencoded dictionary whose values are still encoded, so that each key's type can be
// checked and reported on its own.
type dict map[string]bencode.Bytes

// Load reads and parses the .torrent file at path.
func Load(path string) (*MetaInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("metainfo: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxTorrentSize+1))
	if err != nil {
		return nil, fmt.Errorf("metainfo: reading %s: %w", path, err)
	}
	if len(data) > MaxTorrentSize {
		return nil, fmt.Errorf("metainfo: %s is larger than %d bytes", path, MaxTorrentSize)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return m, nil
}

// Parse decodes a hybrid .torrent, single-file or multi-file, and checks everything that can be
// checked without the payload: every key's presence and type, the piece length, that the v1 and
// v2 parts describe the same files (pad files only where BEP 47 puts them), every path (see
// validPath; no file that is also a directory, at most MaxFiles files), the number of v1
// hashes, and that each piece layer hashes to its pieces root. The info-hashes are those of the
// info dict's bytes as received.
func Parse(data []byte) (*MetaInfo, error) {
	m, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("metainfo: invalid .torrent: %w", err)
	}
	return m, nil
}

func parse(data []byte) (*MetaInfo, error) {
	top, err := decodeDict(data)
	if err != nil {
		return nil, err
	}
	announce, err := optionalString(top, "announce")
	if err != nil {
		return nil, err
	}
	rawInfo, ok := top["info"]
	if !ok {
		return nil, errors.New(`missing "info"`)
	}
	info, err := parseInfo(rawInfo)
	if err != nil {
		return nil, fmt.Errorf("info: %w", err)
	}
	layers, err := parsePieceLayers(top, info)
	if err != nil {
		return nil, fmt.Errorf("piece layers: %w", err)
	}
	return newMetaInfo(announce, info, layers, []byte(rawInfo)), nil
}

// FromInfoBytes makes a MetaInfo from a bencoded info dict alone (fetched from peers, BEP 9),
// checked as Parse checks it; the piece layers of files larger than one piece are missing
// until SetPieceLayer sets them (NeedsPieceLayers lists them).
func FromInfoBytes(info []byte, announce string) (*MetaInfo, error) {
	parsed, err := parseInfo(info)
	if err != nil {
		return nil, fmt.Errorf("metainfo: invalid info dict: %w", err)
	}
	return newMetaInfo(announce, parsed, nil, append([]byte(nil), info...)), nil
}

// parseInfo decodes and checks the info dict.
func parseInfo(raw []byte) (Info, error) {
	d, err := decodeDict(raw)
	if err != nil {
		return Info{}, err
	}
	var info Info
	if info.Name, err = requiredString(d, "name"); err != nil {
		return Info{}, err
	}
	if err := validName(info.Name); err != nil {
		return Info{}, err
	}
	if _, multi := d["files"]; multi {
		if _, single := d["length"]; single {
			return Info{}, errors.New(`has both "length" and "files" (a single-file torrent has no "files")`)
		}
		return parseMultiInfo(raw, d, info)
	}
	if info.Length, err = requiredInt(d, "length"); err != nil {
		return Info{}, err
	}
	if info.Length < 0 {
		return Info{}, fmt.Errorf("length %d is negative", info.Length)
	}
	if info.Length == 0 {
		return Info{}, ErrEmptyFile
	}
	if err := parseGeometry(d, &info); err != nil {
		return Info{}, err
	}
	if info.PiecesRoot, err = parseFileTree(d, info.Name, info.Length); err != nil {
		return Info{}, err
	}
	info.Files = []File{{Length: info.Length, PiecesRoot: info.PiecesRoot}}
	return info, nil
}

// parseGeometry reads the piece length and the meta version, then the v1 piece hashes of the
// piece space of info.Length bytes.
func parseGeometry(d dict, info *Info) error {
	var err error
	if info.PieceLength, err = requiredInt(d, "piece length"); err != nil {
		return err
	}
	if err := ValidPieceLength(info.PieceLength); err != nil {
		return err
	}
	version, err := requiredInt(d, "meta version")
	if err != nil {
		return fmt.Errorf("%w (a v2 or hybrid torrent is required)", err)
	}
	if version != metaVersion {
		return fmt.Errorf(`"meta version" is %d, want %d`, version, metaVersion)
	}
	if info.V1Pieces, err = parseV1Pieces(d, numPieces(info.Length, info.PieceLength)); err != nil {
		return err
	}
	return nil
}

// parseV1Pieces splits "pieces" into SHA-1 hashes and checks there is one per piece.
func parseV1Pieces(d dict, n int) ([][20]byte, error) {
	s, err := requiredString(d, "pieces")
	if err != nil {
		return nil, err
	}
	if len(s)%20 != 0 || len(s)/20 != n {
		return nil, fmt.Errorf(`"pieces" is %d bytes, want %d (20 per piece for %d pieces)`, len(s), n*20, n)
	}
	pieces := make([][20]byte, n)
	for i := range pieces {
		copy(pieces[i][:], s[i*20:])
	}
	return pieces, nil
}

// parseFileTree checks that the v2 file tree holds exactly the file that the v1 keys describe
// and returns its pieces root.
func parseFileTree(d dict, name string, length int64) ([32]byte, error) {
	tree, err := requiredDict(d, "file tree")
	if err != nil {
		return [32]byte{}, err
	}
	root, err := parseFileEntry(tree, name, length)
	if err != nil {
		return [32]byte{}, fmt.Errorf("file tree: %w", err)
	}
	return root, nil
}

// parseFileEntry checks the file tree's only entry and returns its pieces root.
func parseFileEntry(tree dict, name string, length int64) ([32]byte, error) {
	var root [32]byte
	if len(tree) != 1 {
		return root, fmt.Errorf("has %d entries, want exactly 1 (single-file torrents only)", len(tree))
	}
	if _, ok := tree[name]; !ok {
		for other := range tree {
			return root, fmt.Errorf("names the file %q, the v1 name is %q", other, name)
		}
	}
	node, err := requiredDict(tree, name)
	if err != nil {
		return root, err
	}
	if len(node) != 1 {
		return root, fmt.Errorf("%q is a directory, want a file", name)
	}
	file, err := requiredDict(node, "")
	if err != nil {
		return root, fmt.Errorf("%q: %w", name, err)
	}
	v2Length, err := requiredInt(file, "length")
	if err != nil {
		return root, err
	}
	if v2Length != length {
		return root, fmt.Errorf("v2 length %d disagrees with v1 length %d", v2Length, length)
	}
	s, err := requiredString(file, "pieces root")
	if err != nil {
		return root, err
	}
	if len(s) != hashSize {
		return root, fmt.Errorf(`"pieces root" is %d bytes, want %d`, len(s), hashSize)
	}
	copy(root[:], s)
	return root, nil
}

// parsePieceLayers returns each file's piece layer, checked against its pieces root: every
// file larger than one piece has one (files with the same root share it), no other is listed.
func parsePieceLayers(top dict, info Info) ([][][32]byte, error) {
	layers, err := optionalDict(top, "piece layers")
	if err != nil {
		return nil, err
	}
	byRoot := make(map[string][]int)
	for k, f := range info.Files {
		if f.Length > 0 {
			byRoot[string(f.PiecesRoot[:])] = append(byRoot[string(f.PiecesRoot[:])], k)
		}
	}
	for key := range layers {
		files, ok := byRoot[key]
		if !ok {
			return nil, fmt.Errorf("has an entry for an unknown pieces root %x", key)
		}
		if info.Files[files[0]].Length <= info.PieceLength {
			return nil, errors.New("has an entry, but a file of one piece has no piece layer")
		}
	}
	out := make([][][32]byte, len(info.Files))
	for k, f := range info.Files {
		if f.Length <= info.PieceLength || out[k] != nil {
			continue
		}
		layer, err := parseLayer(layers, f, info.PieceLength)
		if err != nil {
			return nil, err
		}
		for _, same := range byRoot[string(f.PiecesRoot[:])] {
			if info.Files[same].Length != f.Length {
				return nil, fmt.Errorf("two files of lengths %d and %d share pieces root %x", f.Length, info.Files[same].Length, f.PiecesRoot)
			}
			out[same] = layer
		}
	}
	return out, nil
}

// parseLayer returns the piece layer of file f, checked against its pieces root.
func parseLayer(layers dict, f File, pieceLength int64) ([][32]byte, error) {
	n := numPieces(f.Length, pieceLength)
	key := string(f.PiecesRoot[:])
	if _, ok := layers[key]; !ok {
		return nil, fmt.Errorf("missing the layer of pieces root %x (the file has %d pieces)", f.PiecesRoot, n)
	}
	s, err := requiredString(layers, key)
	if err != nil {
		return nil, fmt.Errorf("the layer of pieces root %x is not a string", f.PiecesRoot)
	}
	if len(s) != n*hashSize {
		return nil, fmt.Errorf("layer is %d bytes, want %d (32 per piece for %d pieces)", len(s), n*hashSize, n)
	}
	layer := make([][32]byte, n)
	for i := range layer {
		copy(layer[i][:], s[i*hashSize:])
	}
	if layerRoot(layer, int(pieceLength/BlockSize)) != f.PiecesRoot {
		return nil, errors.New("the layer does not hash to the pieces root")
	}
	return layer, nil
}

// decodeDict decodes one bencoded dictionary, keeping its values encoded.
func decodeDict(raw []byte) (dict, error) {
	if len(raw) == 0 || raw[0] != 'd' {
		return nil, errors.New("not a bencoded dictionary")
	}
	var d dict
	if err := unmarshal(raw, &d); err != nil {
		return nil, err
	}
	return d, nil
}

// maxNesting bounds the nesting of dicts and lists that the decoder follows: a file tree of
// MaxPathDepth directories inside the .torrent's own few levels.
const maxNesting = MaxPathDepth + 8

// unmarshal decodes exactly one bencoded value of raw into v, nested at most maxNesting deep.
func unmarshal(raw []byte, v any) error {
	dec := bencode.NewDecoder(bytes.NewReader(raw))
	dec.MaxDepth = maxNesting
	if err := dec.Decode(v); err != nil {
		return err
	}
	if err := dec.ReadEOF(); err != nil {
		return fmt.Errorf("trailing bytes after the value: %w", err)
	}
	return nil
}

func requiredDict(d dict, key string) (dict, error) {
	raw, ok := d[key]
	if !ok {
		return nil, fmt.Errorf("missing %q", key)
	}
	d2, err := decodeDict(raw)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", key, err)
	}
	return d2, nil
}

func optionalDict(d dict, key string) (dict, error) {
	if _, ok := d[key]; !ok {
		return nil, nil
	}
	return requiredDict(d, key)
}

func requiredInt(d dict, key string) (int64, error) {
	raw, ok := d[key]
	if !ok {
		return 0, fmt.Errorf("missing %q", key)
	}
	if len(raw) == 0 || raw[0] != 'i' {
		return 0, fmt.Errorf("%q is not an integer", key)
	}
	var n int64
	if err := unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("%q: %w", key, err)
	}
	return n, nil
}

func requiredString(d dict, key string) (string, error) {
	raw, ok := d[key]
	if !ok {
		return "", fmt.Errorf("missing %q", key)
	}
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' {
		return "", fmt.Errorf("%q is not a string", key)
	}
	var s string
	if err := unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%q: %w", key, err)
	}
	return s, nil
}

func optionalString(d dict, key string) (string, error) {
	if _, ok := d[key]; !ok {
		return "", nil
	}
	return requiredString(d, key)
}
