package metainfo

import (
	"crypto/sha256"
	"fmt"
	"os"
	"testing"
)

// benchPiece makes a torrent of four default pieces and returns it with piece 1's data.
func benchPiece(b *testing.B) (*MetaInfo, []byte) {
	m, path := create(b, 4*DefaultPieceLength, DefaultPieceLength)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return m, data[DefaultPieceLength : 2*DefaultPieceLength]
}

// BenchmarkVerifyPiece measures verifying one 256 KiB piece (compare with BenchmarkSHA256).
func BenchmarkVerifyPiece(b *testing.B) {
	m, piece := benchPiece(b)
	b.SetBytes(int64(len(piece)))
	b.ReportAllocs()
	for b.Loop() {
		if !m.VerifyPiece(1, piece) {
			b.Fatal("piece rejected")
		}
	}
}

// BenchmarkVerifierVerifyPiece is BenchmarkVerifyPiece with a Verifier's own scratch.
func BenchmarkVerifierVerifyPiece(b *testing.B) {
	m, piece := benchPiece(b)
	v := m.NewVerifier()
	b.SetBytes(int64(len(piece)))
	b.ReportAllocs()
	for b.Loop() {
		if !v.VerifyPiece(1, piece) {
			b.Fatal("piece rejected")
		}
	}
}

// BenchmarkSHA256 is the plain SHA-256 of the same 256 KiB: the machine's hashing speed.
func BenchmarkSHA256(b *testing.B) {
	_, piece := benchPiece(b)
	b.SetBytes(int64(len(piece)))
	for b.Loop() {
		sha256.Sum256(piece)
	}
}

// BenchmarkCreate hashes a 32 MiB file (SHA-1 and SHA-256 of every byte, on up to 2 cores).
func BenchmarkCreate(b *testing.B) {
	const size = 32 << 20
	path := writeFile(b, "data.bin", 1, size)
	b.SetBytes(size)
	for b.Loop() {
		if _, err := Create(path, CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateDirSmallFiles hashes a directory of 2000 files of 1 to 16 KiB in 16 directories
// (each file its own piece, padded: the per-file cost of the walk, opens and pads).
func BenchmarkCreateDirSmallFiles(b *testing.B) {
	files := make([]testFile, 2000)
	var total int64
	for k := range files {
		files[k] = testFile{fmt.Sprintf("d%02d/f%04d", k%16, k), int64(1 + k*7919%(16<<10)), uint64(k)}
		total += files[k].length
	}
	dir := writeTree(b, files)
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CreateDir(dir, CreateOptions{PieceLength: BlockSize}); err != nil {
			b.Fatal(err)
		}
	}
}
