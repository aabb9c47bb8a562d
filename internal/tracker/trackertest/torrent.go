package trackertest

import (
	"path/filepath"
	"testing"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
)

// Torrent writes a file of size bytes generated from seed in a temporary directory and returns
// its .torrent (pieces of 64 KiB, no announce URL), parsed and encoded: something to publish.
func Torrent(t testing.TB, size int64, seed uint64) (*metainfo.MetaInfo, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "payload.bin")
	if err := generate.WriteFile(path, seed, size); err != nil {
		t.Fatal(err)
	}
	meta, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	data, err := meta.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return meta, data
}
