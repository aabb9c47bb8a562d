package metainfo

import (
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

// fileEntry is the value under a file's "" key in the file tree.
type fileEntry struct {
	Length     int64  `bencode:"length"`
	PiecesRoot string `bencode:"pieces root"`
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
	pieces := make([]byte, 0, len(info.V1Pieces)*20)
	for _, h := range info.V1Pieces {
		pieces = append(pieces, h[:]...)
	}
	d := infoDict{
		FileTree: map[string]map[string]fileEntry{
			info.Name: {"": {Length: info.Length, PiecesRoot: string(info.PiecesRoot[:])}},
		},
		Length:      info.Length,
		MetaVersion: metaVersion,
		Name:        info.Name,
		PieceLength: info.PieceLength,
		Pieces:      string(pieces),
	}
	b, err := bencode.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("metainfo: encoding the info dict: %w", err)
	}
	return b, nil
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
	if m.pieceLayer != nil {
		layer := make([]byte, 0, len(m.pieceLayer)*hashSize)
		for _, h := range m.pieceLayer {
			layer = append(layer, h[:]...)
		}
		t.PieceLayers = map[string]string{string(m.Info.PiecesRoot[:]): string(layer)}
	}
	b, err := bencode.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("metainfo: encoding the .torrent: %w", err)
	}
	return b, nil
}
