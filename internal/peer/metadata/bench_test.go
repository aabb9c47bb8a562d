package metadata

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// BenchmarkFetch fetches a large torrent (info dict and piece layer) from two seeders over
// loopback: a file of sparse zeros of MINIBIT_BENCH_BYTES (default 256 MiB) in 16 KiB pieces,
// the most hashes per byte. It reports the info dict's and the layer's sizes.
func BenchmarkFetch(b *testing.B) {
	size := int64(256 << 20)
	if s := os.Getenv("MINIBIT_BENCH_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		size = n
	}
	path := filepath.Join(b.TempDir(), "zeros.bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Truncate(size); err != nil || f.Close() != nil {
		b.Fatal(err)
	}
	meta, err := metainfo.Create(path, metainfo.CreateOptions{PieceLength: 16 << 10})
	if err != nil {
		b.Fatal(err)
	}
	a, c := startSeeder(b, meta, honest), startSeeder(b, meta, honest)
	b.ResetTimer()
	for range b.N {
		got, drops, err := fetchFrom(b, meta, 0, a, c)
		if err != nil {
			b.Fatalf("%v\n%s", err, drops)
		}
		if len(got.NeedsPieceLayers()) != 0 {
			b.Fatal("layers missing")
		}
	}
	b.ReportMetric(float64(len(meta.InfoBytes())), "info-bytes")
	b.ReportMetric(float64(meta.NumPieces()*32), "layer-bytes")
}
