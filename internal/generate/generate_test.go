package generate

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// oddChunks reads r in chunks of varying odd sizes, to show output does not depend on how reads split.
func oddChunks(t *testing.T, r io.Reader) []byte {
	t.Helper()
	var out []byte
	for size := 1; ; size = size*3%1021 + 1 {
		buf := make([]byte, size)
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestReaderIsDeterministic(t *testing.T) {
	const size = 300_001
	a := readAll(t, NewReader(42, size))
	b := oddChunks(t, NewReader(42, size))
	if len(a) != size || len(b) != size {
		t.Fatalf("got %d and %d bytes, want %d", len(a), len(b), size)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("same seed and size gave different bytes")
	}
	if prefix := readAll(t, NewReader(42, 1000)); !bytes.Equal(prefix, a[:1000]) {
		t.Fatal("a shorter size is not a prefix of the same seed's content")
	}
}

func TestReaderKnownAnswer(t *testing.T) {
	// Pins the content format: a change would change every demo file and its hashes.
	if got := hexString(readAll(t, NewReader(0, 16))); got != "24f69e915cd15576b7c8edb410427ab8" {
		t.Errorf("first 16 bytes of seed 0 = %s", got)
	}
	sum := sha256.Sum256(readAll(t, NewReader(1, 1<<20)))
	if got := hexString(sum[:]); got != "43238775a880a28b3a87028d605a548ea034682021a8c072297c37476c7dafb6" {
		t.Errorf("sha256 of 1 MiB of seed 1 = %s", got)
	}
}

func TestDifferentSeedsDiffer(t *testing.T) {
	a := readAll(t, NewReader(1, 4096))
	b := readAll(t, NewReader(2, 4096))
	if bytes.Equal(a, b) {
		t.Fatal("seeds 1 and 2 gave the same bytes")
	}
	if bytes.Equal(a, make([]byte, len(a))) {
		t.Fatal("content is all zeros")
	}
}

func TestReaderSizes(t *testing.T) {
	for _, size := range []int64{0, 1, 7, 8, 4095, 65537} {
		if got := int64(len(readAll(t, NewReader(9, size)))); got != size {
			t.Errorf("size %d: read %d bytes", size, got)
		}
	}
	if got := len(readAll(t, NewReader(9, -5))); got != 0 {
		t.Errorf("negative size: read %d bytes, want 0", got)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data.bin")
	const size = 3<<20 + 123
	if err := WriteFile(path, 7, size); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, readAll(t, NewReader(7, size))) {
		t.Fatal("file content differs from NewReader's")
	}
	// Overwriting replaces the file; no temporary file is left behind.
	if err := WriteFile(path, 8, 10); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "data.bin" {
		t.Fatalf("directory holds %v, want only data.bin", entries)
	}
	if st, _ := os.Stat(path); st.Size() != 10 {
		t.Fatalf("size after overwrite %d, want 10", st.Size())
	}
}

func TestWriteFileErrors(t *testing.T) {
	if err := WriteFile(filepath.Join(t.TempDir(), "missing", "f"), 1, 10); err == nil {
		t.Error("missing directory: no error")
	}
	if err := WriteFile(filepath.Join(t.TempDir(), "f"), 1, -1); err == nil {
		t.Error("negative size: no error")
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"1048576": 1 << 20, "0": 0, "64MiB": 64 << 20, "256KiB": 256 << 10, "1GiB": 1 << 30,
		"64Mi": 64 << 20, "256Ki": 256 << 10, "2TiB": 2 << 40, "512B": 512, " 64 MiB ": 64 << 20, //nolint:gocritic // the spaces are the point: they are trimmed
	}
	for in, want := range good {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1.5MiB", "64MB", "64mib", "1KB", "10x", "9223372036854775808", "8589934592GiB"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func BenchmarkReader(b *testing.B) {
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	r := NewReader(1, 1<<62)
	for b.Loop() {
		if _, err := io.ReadFull(r, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func hexString(b []byte) string { return fmt.Sprintf("%x", b) }
