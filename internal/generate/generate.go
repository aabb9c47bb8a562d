// Package generate makes deterministic file content from a seed number, for demos, drills and
// benchmarks: the same seed and size always give the same bytes, so any machine can recreate or
// check a file without shipping it.
package generate

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// pcgIncrement is the second PCG seed word, fixed so that the seed number alone picks the content.
const pcgIncrement = 0x9e3779b97f4a7c15

// reader streams size bytes of PCG output seeded by the seed, 8 little-endian bytes per word.
// A word split by a short read keeps its unread bytes in spare.
type reader struct {
	rng   *rand.PCG
	left  int64
	spare [8]byte
	nfree int // unread bytes at the end of spare
}

// NewReader returns a reader of size bytes determined only by seed and size: the same seed
// gives the same stream (a shorter size reads a prefix of a longer one), however reads are
// split. It uses math/rand/v2's PCG, not a cryptographic generator, so that generating a file
// costs little next to hashing and writing it (BenchmarkReader; docs/benchmarks.md).
// A negative size reads as empty.
func NewReader(seed uint64, size int64) io.Reader {
	return &reader{rng: rand.NewPCG(seed, pcgIncrement), left: max(size, 0)}
}

func (r *reader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	k := copy(p, r.spare[8-r.nfree:])
	r.nfree -= k
	rest := p[k:]
	for len(rest) >= 8 {
		binary.LittleEndian.PutUint64(rest, r.rng.Uint64())
		rest = rest[8:]
	}
	if len(rest) > 0 {
		binary.LittleEndian.PutUint64(r.spare[:], r.rng.Uint64())
		r.nfree = 8 - copy(rest, r.spare[:])
	}
	r.left -= int64(len(p))
	return len(p), nil
}

// copyBufferSize is the chunk WriteFile generates and writes at a time.
const copyBufferSize = 1 << 20

// WriteFile writes size bytes of seed's content to path atomically: to a temporary file in the
// same directory, synced, then renamed over path, so path never holds a partial file.
func WriteFile(path string, seed uint64, size int64) (err error) {
	if size < 0 {
		return fmt.Errorf("generate: negative size %d", size)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	buf := make([]byte, copyBufferSize)
	if _, err := io.CopyBuffer(onlyWriter{tmp}, NewReader(seed, size), buf); err != nil {
		return fmt.Errorf("generate: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	return nil
}

// onlyWriter hides *os.File's ReadFrom so that io.CopyBuffer uses the given large buffer.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// sizeUnits are the suffixes ParseSize accepts, with and without the trailing "B".
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"Ki": 1 << 10, "KiB": 1 << 10,
	"Mi": 1 << 20, "MiB": 1 << 20,
	"Gi": 1 << 30, "GiB": 1 << 30,
	"Ti": 1 << 40, "TiB": 1 << 40,
}

// ParseSize parses a byte count: a plain number ("1048576") or a number with a binary unit,
// with or without "B" ("256KiB", "64Mi", "1GiB", "2TiB"); a space may separate them. Decimal
// units (KB, MB) are refused to avoid confusing 1000 with 1024.
func ParseSize(s string) (int64, error) {
	trimmed := strings.TrimSpace(s)
	digits := 0
	for digits < len(trimmed) && trimmed[digits] >= '0' && trimmed[digits] <= '9' {
		digits++
	}
	if digits == 0 {
		return 0, fmt.Errorf("size %q: want a number of bytes such as 1048576, 256KiB or 64MiB", s)
	}
	unitName := strings.TrimSpace(trimmed[digits:])
	unit, ok := sizeUnits[unitName]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, KiB, MiB, GiB or TiB)", s, unitName)
	}
	n, err := strconv.ParseInt(trimmed[:digits], 10, 64)
	if err != nil || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * unit, nil
}
