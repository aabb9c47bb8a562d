package metainfo

import (
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

// Parse decodes a hybrid single-file .torrent and checks everything that can be checked without
// the file: every key's presence and type, the piece length, that the v1 and v2 parts describe
// the same file, the number of v1 hashes, and that the piece layer hashes to the pieces root.
// The info-hashes are those of the info dict's bytes as received.
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
	layer, err := parsePieceLayers(top, info)
	if err != nil {
		return nil, fmt.Errorf("piece layers: %w", err)
	}
	return newMetaInfo(announce, info, layer, []byte(rawInfo)), nil
}

// parseInfo decodes and checks the info dict.
func parseInfo(raw []byte) (Info, error) {
	d, err := decodeDict(raw)
	if err != nil {
		return Info{}, err
	}
	if _, multi := d["files"]; multi {
		return Info{}, errors.New(`has "files": only single-file torrents are supported`)
	}
	var info Info
	if info.Name, err = requiredString(d, "name"); err != nil {
		return Info{}, err
	}
	if err := validName(info.Name); err != nil {
		return Info{}, err
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
	if info.PieceLength, err = requiredInt(d, "piece length"); err != nil {
		return Info{}, err
	}
	if err := ValidPieceLength(info.PieceLength); err != nil {
		return Info{}, err
	}
	version, err := requiredInt(d, "meta version")
	if err != nil {
		return Info{}, fmt.Errorf("%w (a v2 or hybrid torrent is required)", err)
	}
	if version != metaVersion {
		return Info{}, fmt.Errorf(`"meta version" is %d, want %d`, version, metaVersion)
	}
	if info.V1Pieces, err = parseV1Pieces(d, numPieces(info.Length, info.PieceLength)); err != nil {
		return Info{}, err
	}
	if info.PiecesRoot, err = parseFileTree(d, info.Name, info.Length); err != nil {
		return Info{}, err
	}
	return info, nil
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

// parsePieceLayers returns the piece layer of a file larger than one piece, checked against
// its pieces root; a file of one piece has none.
func parsePieceLayers(top dict, info Info) ([][32]byte, error) {
	n := numPieces(info.Length, info.PieceLength)
	layers, err := optionalDict(top, "piece layers")
	if err != nil {
		return nil, err
	}
	if n == 1 {
		if len(layers) > 0 {
			return nil, errors.New("has an entry, but a file of one piece has no piece layer")
		}
		return nil, nil
	}
	key := string(info.PiecesRoot[:])
	for k := range layers {
		if k != key {
			return nil, fmt.Errorf("has an entry for an unknown pieces root %x", k)
		}
	}
	if _, ok := layers[key]; !ok {
		return nil, fmt.Errorf("missing the layer of pieces root %x (the file has %d pieces)", info.PiecesRoot, n)
	}
	s, err := requiredString(layers, key)
	if err != nil {
		return nil, fmt.Errorf("the layer of pieces root %x is not a string", info.PiecesRoot)
	}
	if len(s) != n*hashSize {
		return nil, fmt.Errorf("layer is %d bytes, want %d (32 per piece for %d pieces)", len(s), n*hashSize, n)
	}
	layer := make([][32]byte, n)
	for i := range layer {
		copy(layer[i][:], s[i*hashSize:])
	}
	if layerRoot(layer, int(info.PieceLength/BlockSize)) != info.PiecesRoot {
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
	if err := bencode.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	return d, nil
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
	if err := bencode.Unmarshal(raw, &n); err != nil {
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
	if err := bencode.Unmarshal(raw, &s); err != nil {
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
