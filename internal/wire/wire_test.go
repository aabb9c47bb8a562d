package wire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// everyMessage holds one message of each type, as Read returns them.
var everyMessage = []Message{
	{KeepAlive: true},
	{ID: Choke}, {ID: Unchoke}, {ID: Interested}, {ID: NotInterested},
	{ID: Have, Index: 7},
	{ID: BitfieldMsg, Payload: []byte{0xA5, 0x80}},
	{ID: Request, Index: 1, Begin: 2 * BlockSize, Length: BlockSize},
	{ID: Piece, Index: 3, Begin: BlockSize, Length: 5, Payload: []byte("block")},
	{ID: Cancel, Index: 1, Begin: 0, Length: BlockSize},
	{ID: Port, Port: 6881},
	{ID: Suggest, Index: 9},
	{ID: HaveAll}, {ID: HaveNone},
	{ID: Reject, Index: 4, Begin: 16, Length: 32},
	{ID: AllowedFast, Index: 1<<32 - 1},
	testRange.Message(HashRequest),
	testRange.HashesMessage(bytes.Repeat([]byte{7}, 16*32)),
	testRange.Message(HashReject),
	ExtendedMessage(3, MetadataMsg{Type: MetadataData, TotalSize: 5, Data: []byte("d1:ae")}.Body()),
}

func TestRoundTripEveryMessage(t *testing.T) {
	var stream []byte
	for _, m := range everyMessage {
		stream = AppendMessage(stream, m)
	}
	r := NewReader(bytes.NewReader(stream), BlockSize)
	for _, want := range everyMessage {
		got, err := r.Read()
		if err != nil {
			t.Fatalf("reading %v: %v", want, err)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("message mismatch (-want +got):\n%s", diff)
		}
	}
	if _, err := r.Read(); !errors.Is(err, io.EOF) {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
}

func TestKnownEncodings(t *testing.T) {
	cases := []struct {
		m    Message
		want []byte
	}{
		{Message{KeepAlive: true}, []byte{0, 0, 0, 0}},
		{Message{ID: Interested}, []byte{0, 0, 0, 1, 2}},
		{Message{ID: Have, Index: 0x01020304}, []byte{0, 0, 0, 5, 4, 1, 2, 3, 4}},
		{Message{ID: Request, Index: 1, Begin: 0x4000, Length: 0x4000},
			[]byte{0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0}},
		{Message{ID: Piece, Index: 2, Begin: 3, Payload: []byte{0xAB}},
			[]byte{0, 0, 0, 10, 7, 0, 0, 0, 2, 0, 0, 0, 3, 0xAB}},
		{Message{ID: BitfieldMsg, Payload: []byte{0xF0}}, []byte{0, 0, 0, 2, 5, 0xF0}},
		{Message{ID: Port, Port: 0x1AE1}, []byte{0, 0, 0, 3, 9, 0x1A, 0xE1}},
		{Message{ID: HaveAll}, []byte{0, 0, 0, 1, 0x0E}},
		{Message{ID: AllowedFast, Index: 5}, []byte{0, 0, 0, 5, 0x11, 0, 0, 0, 5}},
	}
	for _, tc := range cases {
		if got := AppendMessage(nil, tc.m); !bytes.Equal(got, tc.want) {
			t.Errorf("%v: encoded % x, want % x", tc.m, got, tc.want)
		}
	}
}

func TestAppendMessageDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 2*BlockSize)
	block := make([]byte, BlockSize)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendMessage(buf[:0], Message{ID: Piece, Index: 1, Payload: block})
		buf = AppendMessage(buf, Message{ID: Have, Index: 1})
	})
	if allocs != 0 {
		t.Fatalf("AppendMessage allocates %v times", allocs)
	}
}

// malformedStreams are inputs on which Read must fail with the given error.
var malformedStreams = []struct {
	name string
	in   []byte
	want error
}{
	{"short prefix", []byte{0, 0}, io.ErrUnexpectedEOF},
	{"prefix without id", []byte{0, 0, 0, 5}, io.ErrUnexpectedEOF},
	{"short have", []byte{0, 0, 0, 5, 4, 0, 0}, io.ErrUnexpectedEOF},
	{"have too short", []byte{0, 0, 0, 4, 4, 0, 0, 0}, ErrMalformed},
	{"have too long", []byte{0, 0, 0, 6, 4, 0, 0, 0, 0, 0}, ErrMalformed},
	{"choke with payload", []byte{0, 0, 0, 2, 0, 0}, ErrMalformed},
	{"request too short", []byte{0, 0, 0, 12, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ErrMalformed},
	{"port too long", []byte{0, 0, 0, 4, 9, 0, 0, 0}, ErrMalformed},
	{"piece without block", []byte{0, 0, 0, 9, 7, 0, 0, 0, 0, 0, 0, 0, 0}, ErrMalformed},
	{"piece too short", []byte{0, 0, 0, 5, 7, 0, 0, 0, 0}, ErrMalformed},
	{"unknown id", []byte{0, 0, 0, 1, 0x0A}, ErrMalformed},
	{"extended without its id", []byte{0, 0, 0, 1, 20}, ErrMalformed},
	{"extended past the bound", []byte{0, 0, 0x50, 0x03, 20}, ErrTooLong},
	{"oversize prefix", []byte{0xFF, 0xFF, 0xFF, 0xFF, 7}, ErrTooLong},
	{"block past the bound", []byte{0, 0, 0x40, 0x0A, 7}, ErrTooLong},
	{"bitfield past the bound", []byte{0, 0, 0x40, 0x02, 5}, ErrTooLong},
}

func TestReadMalformed(t *testing.T) {
	for _, tc := range malformedStreams {
		_, err := NewReader(bytes.NewReader(tc.in), BlockSize).Read()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestReadBound(t *testing.T) {
	block := make([]byte, BlockSize)
	ok := AppendMessage(nil, Message{ID: Piece, Payload: block})
	if _, err := NewReader(bytes.NewReader(ok), BlockSize).Read(); err != nil {
		t.Fatalf("a block of exactly the bound: %v", err)
	}
	tooBig := AppendMessage(nil, Message{ID: Piece, Payload: append(block, 0)})
	if _, err := NewReader(bytes.NewReader(tooBig), BlockSize).Read(); !errors.Is(err, ErrTooLong) {
		t.Fatalf("a block one byte past the bound: %v", err)
	}
	bitfield := AppendMessage(nil, Message{ID: BitfieldMsg, Payload: make([]byte, 100_000)})
	if _, err := NewReader(bytes.NewReader(bitfield), 100_000).Read(); err != nil {
		t.Fatalf("a bitfield larger than the read buffer, within the bound: %v", err)
	}
}

// TestReadDoesNotReadAheadTheBound checks that a length prefix past the bound fails before
// the reader waits for (or allocates) the body.
func TestReadDoesNotReadAheadTheBound(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { _, _ = pw.Write([]byte{0x10, 0, 0, 0, 7}) }() // 256 MiB piece, no body follows
	if _, err := NewReader(pr, BlockSize).Read(); !errors.Is(err, ErrTooLong) {
		t.Fatalf("%v, want ErrTooLong", err)
	}
}

func TestPayloadAliasesUntilNextRead(t *testing.T) {
	var stream []byte
	stream = AppendMessage(stream, Message{ID: Piece, Payload: []byte("first")})
	stream = AppendMessage(stream, Message{ID: Piece, Payload: []byte("second")})
	r := NewReader(bytes.NewReader(stream), BlockSize)
	m1, _ := r.Read()
	kept := bytes.Clone(m1.Payload)
	m2, err := r.Read()
	if err != nil || string(kept) != "first" || string(m2.Payload) != "second" {
		t.Fatalf("read %q then %q (%v)", kept, m2.Payload, err)
	}
}

func TestHandshake(t *testing.T) {
	var h Handshake
	copy(h.InfoHash[:], strings.Repeat("i", 20))
	copy(h.PeerID[:], "-MB0001-123456789012")
	if h.Fast() {
		t.Fatal("a new handshake has the fast bit")
	}
	h.SetFast()
	if !h.Fast() || h.Reserved[7] != 0x04 {
		t.Fatalf("SetFast: reserved % x", h.Reserved)
	}
	var buf bytes.Buffer
	if err := WriteHandshake(&buf, h); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != HandshakeSize || !bytes.HasPrefix(buf.Bytes(), []byte("\x13BitTorrent protocol")) {
		t.Fatalf("handshake bytes %q", buf.Bytes())
	}
	buf.WriteString("next")
	got, err := ReadHandshake(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(h, got); diff != "" {
		t.Fatalf("handshake mismatch (-want +got):\n%s", diff)
	}
	if buf.String() != "next" {
		t.Fatal("ReadHandshake read past the handshake")
	}
}

func TestReadHandshakeRejects(t *testing.T) {
	good := make([]byte, HandshakeSize)
	good[0] = 19
	copy(good[1:], Protocol)
	for name, in := range map[string][]byte{
		"wrong protocol": append([]byte("\x13BitTorrent protocoX"), good[20:]...),
		"wrong length":   append([]byte{18}, good[1:]...),
		"http":           []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + strings.Repeat("x", 50)),
	} {
		if _, err := ReadHandshake(bytes.NewReader(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if _, err := ReadHandshake(bytes.NewReader(good[:40])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short handshake: %v", err)
	}
}

func TestWriter(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	if err := w.WriteMessages(Message{ID: Have, Index: 1}, Message{ID: Unchoke}); err != nil {
		t.Fatal(err)
	}
	want := AppendMessage(AppendMessage(nil, Message{ID: Have, Index: 1}), Message{ID: Unchoke})
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("wrote % x, want % x", out.Bytes(), want)
	}
}

func TestIDNames(t *testing.T) {
	if Piece.String() != "piece" || ID(0x40).String() != "unknown(64)" {
		t.Fatal("ID names")
	}
	if !Reject.Fast() || Have.Fast() || !HaveAll.Fast() {
		t.Fatal("Fast() is wrong")
	}
	if s := (Message{ID: Request, Index: 1, Begin: 2, Length: 3}).String(); s != "request(1, 2, 3)" {
		t.Fatalf("Message.String() = %q", s)
	}
}
