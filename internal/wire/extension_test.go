package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExtendedBit(t *testing.T) {
	var h Handshake
	if h.Extended() {
		t.Fatal("a zero handshake says extended")
	}
	h.SetExtended()
	if !h.Extended() || h.Reserved[5] != 0x10 || h.Fast() || h.Hashes() {
		t.Fatalf("reserved % x after SetExtended", h.Reserved)
	}
}

func TestExtHandshakeRoundTrip(t *testing.T) {
	want := ExtHandshake{M: map[string]uint8{UTMetadata: 3, "ut_pex": 0}, V: "MiniBit", P: 6881, Reqq: 250, MetadataSize: 31235}
	got, err := ParseExtHandshake(want.Body())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
}

// A libtorrent 2.0 extension handshake, as it sends it (binary "yourip", unknown keys).
func TestExtHandshakeLibtorrent(t *testing.T) {
	body := "d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee" +
		"13:metadata_sizei4242e4:reqqi500e11:upload_onlyi1e1:v18:libtorrent/2.0.8.06:yourip4:\x7f\x00\x00\x01e"
	h, err := ParseExtHandshake([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if h.M[UTMetadata] != 2 || h.MetadataSize != 4242 || h.Reqq != 500 || h.V != "libtorrent/2.0.8.0" {
		t.Fatalf("parsed %+v", h)
	}
}

func TestExtHandshakeHostile(t *testing.T) {
	manyKeys := func(n int) string {
		var b strings.Builder
		b.WriteString("d")
		for i := range n {
			k := string(rune('a'+i/26)) + string(rune('a'+i%26))
			b.WriteString("2:" + k + "i1e")
		}
		return b.String() + "e"
	}
	cases := map[string]string{
		"not a dict":             "i1e",
		"empty":                  "",
		"trailing bytes":         "d1:md11:ut_metadatai1eeexx",
		"negative metadata_size": "d13:metadata_sizei-1ee",
		"negative reqq":          "d4:reqqi-5ee",
		"too many keys":          manyKeys(MaxExtensions + 1),
		"too many extensions":    "d1:m" + manyKeys(MaxExtensions+1) + "e",
		"long extension name":    "d1:md65:" + strings.Repeat("x", 65) + "i1eee",
		"too deep":               "d1:ad1:ad1:ad1:ad1:ai1eeeeee",
		"huge string length":     "d1:v999999999:xe",
		"m not a dict":           "d1:mi1ee",
	}
	for name, body := range cases {
		if _, err := ParseExtHandshake([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	// Wrong types are ignored, not errors (BEP 10: unknown or unusable entries are skipped).
	h, err := ParseExtHandshake([]byte("d1:md11:ut_metadata3:abc6:ut_pexi300ee1:v3:abc13:metadata_size2:xxe"))
	if err != nil || len(h.M) != 0 || h.MetadataSize != 0 {
		t.Fatalf("ignored wrong types: %+v, %v", h, err)
	}
}

func TestMetadataMsgRoundTrip(t *testing.T) {
	for _, want := range []MetadataMsg{
		{Type: MetadataRequest, Piece: 2},
		{Type: MetadataReject, Piece: 0},
		{Type: MetadataData, Piece: 1, TotalSize: 20000, Data: bytes.Repeat([]byte{'e'}, 20000-MetadataPieceSize)},
		{Type: MetadataData, Piece: 0, TotalSize: MetadataPieceSize, Data: bytes.Repeat([]byte{'d'}, MetadataPieceSize)},
	} {
		m := ExtendedMessage(2, want.Body())
		r := NewReader(bytes.NewReader(AppendMessage(nil, m)), BlockSize)
		read, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		ext, body, err := ParseExtended(read.Payload)
		if err != nil || ext != 2 {
			t.Fatalf("ParseExtended: %d, %v", ext, err)
		}
		got, err := ParseMetadataMsg(body)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

func TestMetadataMsgHostile(t *testing.T) {
	big := "d8:msg_typei1e5:piecei0e10:total_sizei99999ee" + strings.Repeat("x", MetadataPieceSize+1)
	cases := map[string]string{
		"no msg_type":        "d5:piecei0ee",
		"no piece":           "d8:msg_typei0ee",
		"negative piece":     "d8:msg_typei0e5:piecei-1ee",
		"huge piece":         "d8:msg_typei0e5:piecei99999999ee",
		"data no total":      "d8:msg_typei1e5:piecei0eexx",
		"data zero total":    "d8:msg_typei1e5:piecei0e10:total_sizei0eexx",
		"data 2 GiB total":   "d8:msg_typei1e5:piecei0e10:total_sizei2147483648eexx",
		"oversized piece":    big,
		"request with bytes": "d8:msg_typei0e5:piecei0eexx",
		"not a dict":         "l8:msg_typee",
	}
	for name, body := range cases {
		if _, err := ParseMetadataMsg([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	m, err := ParseMetadataMsg([]byte("d8:msg_typei9e5:piecei0eeextra"))
	if err != nil || m.Type != 9 {
		t.Fatalf("an unknown msg_type is returned for the caller to ignore: %+v, %v", m, err)
	}
}

func TestMetadataPiece(t *testing.T) {
	info := bytes.Repeat([]byte{1}, 2*MetadataPieceSize+5)
	if MetadataPieces(int64(len(info))) != 3 {
		t.Fatal("pieces")
	}
	if p, ok := MetadataPiece(info, 2); !ok || len(p) != 5 {
		t.Fatalf("last piece %d bytes", len(p))
	}
	if _, ok := MetadataPiece(info, 3); ok {
		t.Fatal("piece past the end")
	}
	if _, ok := MetadataPiece(info, -1); ok {
		t.Fatal("negative piece")
	}
}

// FuzzExtension feeds the extension decoders arbitrary bodies: no panic, only ErrMalformed, and
// what they accept stays within the bounds.
func FuzzExtension(f *testing.F) {
	f.Add(ExtHandshake{M: map[string]uint8{UTMetadata: 1}, MetadataSize: 9}.Body())
	f.Add(MetadataMsg{Type: MetadataData, TotalSize: 3, Data: []byte("abc")}.Body())
	f.Add(MetadataMsg{Type: MetadataRequest, Piece: 7}.Body())
	f.Add([]byte("d1:md1:ai1ee1:v3:abce"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if h, err := ParseExtHandshake(body); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("undocumented error %v", err)
			}
		} else if len(h.M) > MaxExtensions || len(h.V) > maxClientNameLen || h.MetadataSize < 0 {
			t.Fatalf("accepted past the bounds: %+v", h)
		}
		if m, err := ParseMetadataMsg(body); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("undocumented error %v", err)
			}
		} else if len(m.Data) > MetadataPieceSize || m.TotalSize < 0 || m.TotalSize > MaxMetadataSize || m.Piece < 0 {
			t.Fatalf("accepted past the bounds: %+v", m)
		}
	})
}
