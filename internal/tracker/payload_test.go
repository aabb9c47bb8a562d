package tracker

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

// The swarm summary shows the payload of the stored torrent: its file count (pad files not
// counted), total size and content identity, for a single file and for a directory.
func TestSwarmSummaryShowsThePayload(t *testing.T) {
	_, c, _ := startTracker(t, Config{})
	dir := filepath.Join(t.TempDir(), "model")
	files := map[string]int{"config.json": 100, "weights/a.bin": 70 << 10, "weights/b.bin": 3, "empty": 0}
	var total int64
	for name, size := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
		total += int64(size)
	}
	multi, err := metainfo.CreateDir(dir, metainfo.CreateOptions{PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	single, _ := makeTorrent(t, 100<<10, 3, "")
	tests := []struct {
		name  string
		m     *metainfo.MetaInfo
		files int
		bytes int64
	}{{"single", single, 1, 100 << 10}, {"directory", multi, len(files), total}}
	for _, tt := range tests {
		data, err := tt.m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.PublishTorrent(context.Background(), tt.name, data); err != nil {
			t.Fatal(err)
		}
		got, err := c.Swarm(context.Background(), tt.name)
		if err != nil {
			t.Fatal(err)
		}
		v2 := tt.m.InfoHashV2()
		want := api.SwarmSummary{Files: tt.files, PayloadBytes: tt.bytes, ContentID: "sha256:" + hex.EncodeToString(v2[:]),
			PieceLength: tt.m.Info.PieceLength, Length: tt.m.Info.Length}
		gotPart := api.SwarmSummary{Files: got.Files, PayloadBytes: got.PayloadBytes, ContentID: got.ContentID,
			PieceLength: got.PieceLength, Length: got.Length}
		if diff := cmp.Diff(want, gotPart); diff != "" {
			t.Errorf("%s: the summary's payload (-want +got):\n%s", tt.name, diff)
		}
	}
}
