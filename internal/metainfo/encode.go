package metainfo

import (
	"crypto/sha1"
	"errors"
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// createdBy is written to the "created by" key of the .torrent files MiniBit writes.
const createdBy = "MiniBit"

// infoDict is the bencoded form of a hybrid single-file info dict. The encoder sorts keys, as
// bencode requires; libtorrent writes the same keys, so both give the same info-hashes.
type infoDict struct {
	FileTree    map[string]map[string]fileEntry `bencode:"file tree"`
	Length      int64                           `bencode:"length"`
	MetaVersion int64                           `bencode:"meta version"`
	Name        string                          `bencode:"name"`
	PieceLength int64                           `bencode:"piece length"`
	Pieces      string                          `bencode:"pieces"`
}

// fileEntry is the value under a file's "" key in the file tree (no root for an empty file).
type fileEntry struct {
	Length     int64  `bencode:"length"`
	PiecesRoot string `bencode:"pieces root,omitempty"`
}

// multiInfoDict is the bencoded form of a hybrid multi-file info dict: the v2 "file tree" and
// the v1 "files" with their pad files, as libtorrent writes them.
type multiInfoDict struct {
	FileTree    map[string]any `bencode:"file tree"`
	Files       []v1File       `bencode:"files"`
	MetaVersion int64          `bencode:"meta version"`
	Name        string         `bencode:"name"`
	PieceLength int64          `bencode:"piece length"`
	Pieces      string         `bencode:"pieces"`
}

// v1File is an entry of the v1 "files" list; Attr is "p" for a pad file (BEP 47).
type v1File struct {
	Attr   string   `bencode:"attr,omitempty"`
	Length int64    `bencode:"length"`
	Path   []string `bencode:"path"`
}

// v1SingleInfo and v1MultiInfo are the info dicts of the v1-only twin.
type v1SingleInfo struct {
	Length      int64  `bencode:"length"`
	Name        string `bencode:"name"`
	PieceLength int64  `bencode:"piece length"`
	Pieces      string `bencode:"pieces"`
}

type v1MultiInfo struct {
	Files       []v1File `bencode:"files"`
	Name        string   `bencode:"name"`
	PieceLength int64    `bencode:"piece length"`
	Pieces      string   `bencode:"pieces"`
}

// torrentFile is the bencoded form of a whole .torrent written by Encode.
type torrentFile struct {
	Announce    string            `bencode:"announce,omitempty"`
	CreatedBy   string            `bencode:"created by,omitempty"`
	Info        bencode.Bytes     `bencode:"info"`
	PieceLayers map[string]string `bencode:"piece layers,omitempty"`
}

// encodeInfo returns the bencoded info dict of info.
func encodeInfo(info Info) ([]byte, error) {
	var d any
	if len(info.Files) == 1 && info.Files[0].Path == nil {
		d = infoDict{
			FileTree: map[string]map[string]fileEntry{
				info.Name: {"": {Length: info.Length, PiecesRoot: string(info.PiecesRoot[:])}},
			},
			Length:      info.Length,
			MetaVersion: metaVersion,
			Name:        info.Name,
			PieceLength: info.PieceLength,
			Pieces:      joinPieces(info.V1Pieces),
		}
	} else {
		d = multiInfoDict{
			FileTree:    fileTree(info.Files),
			Files:       v1Files(info.Files, info.PieceLength),
			MetaVersion: metaVersion,
			Name:        info.Name,
			PieceLength: info.PieceLength,
			Pieces:      joinPieces(info.V1Pieces),
		}
	}
	b, err := bencode.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("metainfo: encoding the info dict: %w", err)
	}
	return b, nil
}

// joinPieces concatenates the v1 piece hashes.
func joinPieces(hashes [][20]byte) string {
	pieces := make([]byte, 0, len(hashes)*20)
	for _, h := range hashes {
		pieces = append(pieces, h[:]...)
	}
	return string(pieces)
}

// fileTree is the v2 file tree of the files: a dict per directory, each file a dict whose ""
// key holds its length and pieces root.
func fileTree(files []File) map[string]any {
	tree := make(map[string]any)
	for _, f := range files {
		dir := tree
		for _, e := range f.Path[:len(f.Path)-1] {
			sub, ok := dir[e].(map[string]any)
			if !ok {
				sub = make(map[string]any)
				dir[e] = sub
			}
			dir = sub
		}
		entry := fileEntry{Length: f.Length}
		if f.Length > 0 {
			entry.PiecesRoot = string(f.PiecesRoot[:])
		}
		dir[f.Path[len(f.Path)-1]] = map[string]fileEntry{"": entry}
	}
	return tree
}

// v1Files is the v1 "files" list: each file, and a pad file after each whose length is not a
// multiple of the piece length, up to the next file's offset (none after the last file).
func v1Files(files []File, pieceLength int64) []v1File {
	out := make([]v1File, 0, 2*len(files))
	for k, f := range files {
		out = append(out, v1File{Length: f.Length, Path: f.Path})
		if pad := padLength(f.Length, pieceLength); pad > 0 && k < len(files)-1 {
			out = append(out, v1File{Attr: "p", Length: pad, Path: []string{padDir, fmt.Sprint(pad)}})
		}
	}
	return out
}

// EncodeV1Twin returns the v1-only twin of the torrent and its info-hash: the same name, piece
// length, "pieces", and length or files (with the same pad files) and announce, without the v2
// keys, so that v1-only clients can join. Its piece i is byte for byte piece i of m.
func (m *MetaInfo) EncodeV1Twin() (torrent []byte, infoHash [20]byte, err error) {
	var info any
	if m.MultiFile() {
		info = v1MultiInfo{
			Files:       v1FilesOf(m),
			Name:        m.Info.Name,
			PieceLength: m.Info.PieceLength,
			Pieces:      joinPieces(m.Info.V1Pieces),
		}
	} else {
		info = v1SingleInfo{
			Length:      m.Info.Length,
			Name:        m.Info.Name,
			PieceLength: m.Info.PieceLength,
			Pieces:      joinPieces(m.Info.V1Pieces),
		}
	}
	infoBytes, err := bencode.Marshal(info)
	if err != nil {
		return nil, infoHash, fmt.Errorf("metainfo: encoding the v1 twin's info dict: %w", err)
	}
	t := torrentFile{Announce: m.Announce, CreatedBy: createdBy, Info: infoBytes}
	torrent, err = bencode.Marshal(t)
	if err != nil {
		return nil, infoHash, fmt.Errorf("metainfo: encoding the v1 twin: %w", err)
	}
	return torrent, sha1.Sum(infoBytes), nil
}

// v1FilesOf is m's v1 "files" list, pad files included where m's piece space has them (a
// parsed torrent may pad its last file, as libtorrent does).
func v1FilesOf(m *MetaInfo) []v1File {
	files := v1Files(m.Info.Files, m.Info.PieceLength)
	last := m.Info.Files[len(m.Info.Files)-1]
	if tail := m.Info.Length - (last.Offset + last.Length); tail > 0 {
		files = append(files, v1File{Attr: "p", Length: tail, Path: []string{padDir, fmt.Sprint(tail)}})
	}
	return files
}

// Encode returns the .torrent bytes: announce, the info dict exactly as created or parsed, and
// the piece layer. Keys of the parsed file other than these are not kept.
func (m *MetaInfo) Encode() ([]byte, error) {
	if len(m.infoBytes) == 0 {
		return nil, errors.New("metainfo: no info dict: use Create or Parse to make a MetaInfo")
	}
	t := torrentFile{
		Announce:  m.Announce,
		CreatedBy: createdBy,
		Info:      bencode.Bytes(m.infoBytes),
	}
	if !m.hasAllLayers() {
		return nil, errors.New("metainfo: piece layers are missing: SetPieceLayer first")
	}
	t.PieceLayers = m.pieceLayersDict()
	b, err := bencode.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("metainfo: encoding the .torrent: %w", err)
	}
	return b, nil
}

// pieceLayersDict is the "piece layers" dict: each distinct root of a file larger than one
// piece, with its layer's hashes concatenated; nil when there is none.
func (m *MetaInfo) pieceLayersDict() map[string]string {
	var d map[string]string
	for k, f := range m.Info.Files {
		layer := m.layers[k]
		if layer == nil {
			continue
		}
		if d == nil {
			d = make(map[string]string)
		}
		b := make([]byte, 0, len(layer)*hashSize)
		for _, h := range layer {
			b = append(b, h[:]...)
		}
		d[string(f.PiecesRoot[:])] = string(b)
	}
	return d
}
