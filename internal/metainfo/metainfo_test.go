package metainfo

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// sizes covers files smaller than a block, than a piece, exactly one piece, whole pieces in a
// non-power-of-two count, an odd tail, and a piece count padded with roots of zero subtrees.
var sizes = []struct{ length, pieceLength int64 }{
	{1, BlockSize},
	{BlockSize, BlockSize},
	{40_000, BlockSize},
	{5 * BlockSize, BlockSize},
	{1000, 64 << 10},
	{50_000, 64 << 10},
	{64 << 10, 64 << 10},
	{100_000, 64 << 10},
	{2*(64<<10) + 5, 64 << 10},
	{3*DefaultPieceLength + 12_345, DefaultPieceLength},
	{4 * DefaultPieceLength, DefaultPieceLength},
}

func TestCreateMatchesReferenceTree(t *testing.T) {
	for _, tc := range sizes {
		m, path := create(t, tc.length, tc.pieceLength)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		root, layer := refTree(data, int(tc.pieceLength))
		if m.Info.PiecesRoot != root {
			t.Errorf("%d/%d: pieces root %x, reference %x", tc.length, tc.pieceLength, m.Info.PiecesRoot, root)
		}
		if len(m.FilePieceLayer(0)) != len(layer) {
			t.Fatalf("%d/%d: layer of %d hashes, reference %d", tc.length, tc.pieceLength, len(m.FilePieceLayer(0)), len(layer))
		}
		for i := range layer {
			if m.FilePieceLayer(0)[i] != layer[i] {
				t.Errorf("%d/%d: layer[%d] differs from the reference", tc.length, tc.pieceLength, i)
			}
		}
		checkV1Pieces(t, m, data)
	}
}

func checkV1Pieces(t *testing.T, m *MetaInfo, data []byte) {
	t.Helper()
	if len(m.Info.V1Pieces) != m.NumPieces() {
		t.Fatalf("%d v1 hashes for %d pieces", len(m.Info.V1Pieces), m.NumPieces())
	}
	for i, h := range m.Info.V1Pieces {
		off := m.PieceOffset(i)
		if h != sha1.Sum(data[off:off+int64(m.PieceLen(i))]) {
			t.Errorf("v1 hash of piece %d is wrong", i)
		}
	}
}

func TestKnownAnswersByHand(t *testing.T) {
	// One block: the root is the block's SHA-256.
	one, path := create(t, 1000, BlockSize)
	data, _ := os.ReadFile(path)
	if one.Info.PiecesRoot != sha256.Sum256(data) {
		t.Error("root of a one-block file is not the block's SHA-256")
	}
	// Three blocks in one 64 KiB piece: the tree has 4 leaves, the last one zero.
	three, path := create(t, 2*BlockSize+5, 64<<10)
	data, _ = os.ReadFile(path)
	b0, b1, b2 := sha256.Sum256(data[:BlockSize]), sha256.Sum256(data[BlockSize:2*BlockSize]), sha256.Sum256(data[2*BlockSize:])
	left := sha256.Sum256(append(b0[:], b1[:]...))
	right := sha256.Sum256(append(b2[:], make([]byte, 32)...))
	if three.Info.PiecesRoot != sha256.Sum256(append(left[:], right[:]...)) {
		t.Error("root of a three-block file is wrong")
	}
	if three.FilePieceLayer(0) != nil {
		t.Error("a file of one piece has a piece layer")
	}
}

func TestPieceGeometry(t *testing.T) {
	m, _ := create(t, 3*DefaultPieceLength+100, 0)
	if m.Info.PieceLength != DefaultPieceLength {
		t.Fatalf("default piece length %d, want %d", m.Info.PieceLength, DefaultPieceLength)
	}
	if m.NumPieces() != 4 {
		t.Fatalf("NumPieces %d, want 4", m.NumPieces())
	}
	wantLens := []int{DefaultPieceLength, DefaultPieceLength, DefaultPieceLength, 100}
	for i, want := range wantLens {
		if got := m.PieceLen(i); got != want {
			t.Errorf("PieceLen(%d) = %d, want %d", i, got, want)
		}
		if got := m.PieceOffset(i); got != int64(i)*DefaultPieceLength {
			t.Errorf("PieceOffset(%d) = %d", i, got)
		}
	}
	if m.PieceLen(4) != 0 || m.PieceLen(-1) != 0 {
		t.Error("PieceLen out of range is not 0")
	}
	if m.Info.Name != "data.bin" {
		t.Errorf("name %q, want the file's base name", m.Info.Name)
	}
}

func TestVerifyPiece(t *testing.T) {
	for _, tc := range sizes {
		m, path := create(t, tc.length, tc.pieceLength)
		data, _ := os.ReadFile(path)
		v := m.NewVerifier()
		for i := range m.NumPieces() {
			off := m.PieceOffset(i)
			piece := bytes.Clone(data[off : off+int64(m.PieceLen(i))])
			if !m.VerifyPiece(i, piece) || !v.VerifyPiece(i, piece) {
				t.Fatalf("%d/%d: piece %d rejected", tc.length, tc.pieceLength, i)
			}
			piece[len(piece)/2] ^= 1
			if m.VerifyPiece(i, piece) || v.VerifyPiece(i, piece) {
				t.Fatalf("%d/%d: corrupt piece %d accepted", tc.length, tc.pieceLength, i)
			}
			piece[len(piece)/2] ^= 1
			if m.VerifyPiece(i, piece[:len(piece)-1]) || m.VerifyPiece(i, append(piece, 0)) {
				t.Fatalf("%d/%d: piece %d of the wrong length accepted", tc.length, tc.pieceLength, i)
			}
		}
		if m.VerifyPiece(-1, data) || m.VerifyPiece(m.NumPieces(), nil) {
			t.Fatal("piece index out of range accepted")
		}
	}
}

func TestVerifyPieceSwapped(t *testing.T) {
	m, path := create(t, 4*BlockSize, BlockSize)
	data, _ := os.ReadFile(path)
	if m.VerifyPiece(0, data[BlockSize:2*BlockSize]) {
		t.Fatal("piece 1's data accepted as piece 0")
	}
}

func TestVerifierDoesNotAllocate(t *testing.T) {
	m, path := create(t, 3*DefaultPieceLength, DefaultPieceLength)
	data, _ := os.ReadFile(path)
	v := m.NewVerifier()
	piece := data[:DefaultPieceLength]
	if allocs := testing.AllocsPerRun(20, func() { v.VerifyPiece(1, piece) }); allocs != 0 {
		t.Fatalf("Verifier.VerifyPiece allocates %v times per call", allocs)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range sizes {
		m, _ := create(t, tc.length, tc.pieceLength)
		enc, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(enc)
		if err != nil {
			t.Fatalf("%d/%d: parsing our own torrent: %v", tc.length, tc.pieceLength, err)
		}
		// Everything, the info bytes, info-hashes and piece layer included.
		if diff := cmp.Diff(m, p, cmp.AllowUnexported(MetaInfo{}), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%d/%d: torrent mismatch after a round trip (-want +got):\n%s", tc.length, tc.pieceLength, diff)
		}
		again, err := p.Encode()
		if err != nil || !bytes.Equal(again, enc) {
			t.Errorf("%d/%d: encoding the parsed torrent gives different bytes (%v)", tc.length, tc.pieceLength, err)
		}
	}
}

func TestLoad(t *testing.T) {
	m, _ := create(t, 100_000, BlockSize)
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.torrent")
	if err := os.WriteFile(path, enc, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.InfoHashV1() != m.InfoHashV1() {
		t.Fatal("loaded torrent has another info-hash")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.torrent")); err == nil {
		t.Fatal("loading a missing file gave no error")
	}
}

func TestInfoHashIsOfReceivedBytes(t *testing.T) {
	m, _ := create(t, 40_000, BlockSize)
	enc, _ := m.Encode()
	// An extra key inside the info dict ("private", sorted between "piece length" and "pieces")
	// must change the info-hash: the hash is of the bytes as received, not as re-encoded.
	extra := bytes.Replace(enc, []byte("6:pieces"), []byte("7:privatei1e6:pieces"), 1)
	p, err := Parse(extra)
	if err != nil {
		t.Fatal(err)
	}
	if p.InfoHashV1() == m.InfoHashV1() {
		t.Fatal("info-hash ignores a key of the info dict")
	}
	if !bytes.Contains(p.InfoBytes(), []byte("7:privatei1e")) {
		t.Fatal("InfoBytes lost a key of the received info dict")
	}
	if want := sha1.Sum(p.InfoBytes()); p.InfoHashV1() != want {
		t.Fatal("InfoHashV1 is not the SHA-1 of InfoBytes")
	}
}

func TestCreateErrors(t *testing.T) {
	empty := writeFile(t, "empty", 1, 0)
	if _, err := Create(empty, CreateOptions{}); !errors.Is(err, ErrEmptyFile) {
		t.Errorf("empty file: %v, want ErrEmptyFile", err)
	}
	file := writeFile(t, "f", 1, 100)
	for _, opts := range []CreateOptions{
		{PieceLength: 1000},
		{PieceLength: 3 * BlockSize},
		{PieceLength: BlockSize / 2},
		{PieceLength: 2 * MaxPieceLength},
		{PieceLength: -BlockSize},
		{Name: "../etc"},
		{Name: "a/b"},
		{Name: ".."},
	} {
		if _, err := Create(file, opts); err == nil {
			t.Errorf("Create with %+v: no error", opts)
		}
	}
	if _, err := Create(t.TempDir(), CreateOptions{}); err == nil || !strings.Contains(err.Error(), "no files") {
		t.Errorf("empty directory: %v, want a no-files error", err)
	}
	if _, err := Create(filepath.Join(t.TempDir(), "missing"), CreateOptions{}); err == nil {
		t.Error("missing file: no error")
	}
}

func TestCreateProgress(t *testing.T) {
	path := writeFile(t, "f", 1, 5*BlockSize+1)
	var calls []int64
	_, err := Create(path, CreateOptions{PieceLength: BlockSize, Progress: func(done, total int64) {
		if total != 5*BlockSize+1 {
			t.Errorf("total %d", total)
		}
		calls = append(calls, done)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[len(calls)-1] != 5*BlockSize+1 {
		t.Fatalf("progress calls %v, want the last to report the whole file", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] < calls[i-1] {
			t.Fatalf("progress went backwards: %v", calls)
		}
	}
}

func TestValidPieceLength(t *testing.T) {
	for _, n := range []int64{BlockSize, 32 << 10, DefaultPieceLength, MaxPieceLength} {
		if err := ValidPieceLength(n); err != nil {
			t.Errorf("%d: %v", n, err)
		}
	}
	for _, n := range []int64{0, -1, 1, 8 << 10, 48 << 10, DefaultPieceLength + 1, 2 * MaxPieceLength} {
		if ValidPieceLength(n) == nil {
			t.Errorf("%d accepted", n)
		}
	}
}

func TestCreateName(t *testing.T) {
	path := writeFile(t, "on-disk.bin", 3, 5000)
	m, err := Create(path, CreateOptions{Name: "shared.bin"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Info.Name != "shared.bin" || !bytes.Contains(m.InfoBytes(), []byte("10:shared.bin")) {
		t.Fatalf("name %q, info %q", m.Info.Name, m.InfoBytes())
	}
}

func TestVerifyPieceConcurrently(t *testing.T) {
	m, path := create(t, 8*BlockSize+100, BlockSize)
	data, _ := os.ReadFile(path)
	done := make(chan bool)
	for range 4 {
		go func() {
			ok := true
			for range 50 {
				for i := range m.NumPieces() {
					off := m.PieceOffset(i)
					ok = ok && m.VerifyPiece(i, data[off:off+int64(m.PieceLen(i))])
				}
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Fatal("a piece was rejected under concurrent verification")
		}
	}
}

func TestFileSHA256(t *testing.T) {
	path := filepath.Join(t.TempDir(), "abc")
	if err := os.WriteFile(path, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FileSHA256(path)
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; err != nil || got != want {
		t.Fatalf("FileSHA256 = %q, %v; want %s", got, err, want)
	}
	if _, err := FileSHA256(path + ".missing"); err == nil {
		t.Fatal("a missing file hashed")
	}
}
