package wire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testRange = HashRange{PiecesRoot: [32]byte{1, 2, 3}, BaseLayer: 0, Index: 32, Length: 16}

func TestHashMessagesRoundTrip(t *testing.T) {
	hashes := bytes.Repeat([]byte{0xAB}, 16*32)
	var stream []byte
	stream = AppendMessage(stream, testRange.Message(HashRequest))
	stream = AppendMessage(stream, testRange.HashesMessage(hashes))
	stream = AppendMessage(stream, testRange.Message(HashReject))
	r := NewReader(bytes.NewReader(stream), BlockSize)
	for _, id := range []ID{HashRequest, Hashes, HashReject} {
		m, err := r.Read()
		if err != nil || m.ID != id {
			t.Fatalf("read %v (%v), want %v", m, err, id)
		}
		if id == Hashes {
			h, got, err := ParseHashes(m.Payload)
			if err != nil {
				t.Fatalf("ParseHashes: %v", err)
			}
			if diff := cmp.Diff(testRange, h); diff != "" {
				t.Fatalf("ParseHashes: range mismatch (-want +got):\n%s", diff)
			}
			if !bytes.Equal(got, hashes) {
				t.Fatal("ParseHashes: the hashes differ from those sent")
			}
			continue
		}
		h, err := ParseHashRange(m.Payload)
		if err != nil {
			t.Fatalf("ParseHashRange: %v", err)
		}
		if diff := cmp.Diff(testRange, h); diff != "" {
			t.Fatalf("ParseHashRange: range mismatch (-want +got):\n%s", diff)
		}
	}
}

func TestHashRangeKnownEncoding(t *testing.T) {
	got := AppendMessage(nil, HashRange{Index: 2, Length: 2, ProofLayers: 1}.Message(HashRequest))
	want := append([]byte{0, 0, 0, 49, 21}, make([]byte, 32)...)
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1)
	if !bytes.Equal(got, want) {
		t.Fatalf("encoded % x\nwant    % x", got, want)
	}
}

func TestHashRangeInvalid(t *testing.T) {
	for name, h := range map[string]HashRange{
		"length 1":          {Length: 1},
		"length 0":          {Length: 0},
		"not a power of 2":  {Length: 12},
		"unaligned index":   {Index: 3, Length: 2},
		"absurd proof":      {Length: 2, ProofLayers: 1 << 31},
		"absurd base layer": {Length: 2, BaseLayer: 99},
	} {
		if _, err := ParseHashRange(h.Message(HashRequest).Payload); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestHashRangeOver512IsValid(t *testing.T) {
	if _, err := ParseHashRange(HashRange{Length: 1024}.Message(HashRequest).Payload); err != nil {
		t.Fatalf("a request for 1024 hashes (SHOULD NOT, not MUST NOT): %v", err)
	}
}

func TestParseHashesCounts(t *testing.T) {
	h := HashRange{Length: 4}
	for name, n := range map[string]int{"too few": 3, "too many": 4 + maxProofHashes + 1} {
		if _, _, err := ParseHashes(h.HashesMessage(make([]byte, 32*n)).Payload); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := ParseHashes(append(h.HashesMessage(make([]byte, 32*4)).Payload, 0)); !errors.Is(err, ErrMalformed) {
		t.Errorf("a partial hash: %v", err)
	}
}

func TestReadHashMessageBounds(t *testing.T) {
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"request too short": {[]byte{0, 0, 0, 2, 21, 0}, ErrMalformed},
		"reject too long":   {append([]byte{0, 0, 0, 50, 23}, make([]byte, 49)...), ErrMalformed},
		"hashes, no hashes": {append([]byte{0, 0, 0, 49, 22}, make([]byte, 48)...), ErrMalformed},
		"hashes, half hash": {append([]byte{0, 0, 0, 129, 22}, make([]byte, 128)...), ErrMalformed},
		"hashes too long":   {[]byte{0, 0, 0x44, 0x32, 22}, ErrTooLong},
	} {
		if _, err := NewReader(bytes.NewReader(tc.in), BlockSize).Read(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	most := HashRange{Length: MaxHashes}.HashesMessage(make([]byte, 32*(MaxHashes+maxProofHashes)))
	if _, err := NewReader(bytes.NewReader(AppendMessage(nil, most)), BlockSize).Read(); err != nil {
		t.Fatalf("the largest hashes message: %v", err)
	}
}

func TestHandshakeHashesBit(t *testing.T) {
	var h Handshake
	h.SetFast()
	if h.Hashes() {
		t.Fatal("a new handshake says it speaks hash messages")
	}
	h.SetHashes()
	if !h.Hashes() || !h.Fast() || h.Reserved[7]&0x10 != 0 {
		t.Fatalf("reserved % x", h.Reserved)
	}
}

// FuzzParseHashes feeds the hash message parsers arbitrary payloads: no panic, only
// ErrMalformed, and an accepted payload encodes back to itself.
func FuzzParseHashes(f *testing.F) {
	f.Add(testRange.Message(HashRequest).Payload)
	f.Add(testRange.HashesMessage(make([]byte, 16*32)).Payload)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		if h, err := ParseHashRange(p); err == nil {
			if !bytes.Equal(h.Message(HashReject).Payload, p) {
				t.Fatalf("range %+v re-encodes differently", h)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("undocumented error %v", err)
		}
		if h, hashes, err := ParseHashes(p); err == nil {
			if !bytes.Equal(h.HashesMessage(hashes).Payload, p) || uint32(len(hashes)/32) < h.Length {
				t.Fatalf("hashes %+v re-encode differently", h)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("undocumented error %v", err)
		}
	})
}
