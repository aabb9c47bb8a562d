package wire

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// blockMessage is a Piece message of a full block whose bytes depend on i.
func blockMessage(i int) Message {
	return Message{ID: Piece, Index: uint32(i), Payload: bytes.Repeat([]byte{byte(i)}, BlockSize), Length: BlockSize}
}

// A stream of blocks with Have messages between them decodes the same through every split of
// the stream, while the Reader switches between its idle and its block buffer.
func TestReaderSwitchesBuffersWithoutLosingBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var want []Message
	for i := range 400 {
		switch rng.IntN(3) {
		case 0:
			want = append(want, blockMessage(i))
		case 1:
			for j := range rng.IntN(3 * idleAfter) {
				want = append(want, Message{ID: Have, Index: uint32(j)})
			}
		default:
			want = append(want, Message{KeepAlive: true})
		}
	}
	var stream []byte
	for _, m := range want {
		stream = AppendMessage(stream, m)
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole": func(r io.Reader) io.Reader { return r },
		"half":  iotest.HalfReader,
		"bytes": iotest.OneByteReader,
	}
	for name, wrap := range readers {
		r := NewReader(wrap(bytes.NewReader(stream)), BlockSize)
		switches := 0
		for i, w := range want {
			large := r.large
			got, err := r.Read()
			if err != nil {
				t.Fatalf("%s: message %d: %v", name, i, err)
			}
			if got.KeepAlive != w.KeepAlive || got.ID != w.ID || got.Index != w.Index || !bytes.Equal(got.Payload, w.Payload) {
				t.Fatalf("%s: message %d: got %v %d (%d bytes), want %v %d", name, i, got.ID, got.Index, len(got.Payload), w.ID, w.Index)
			}
			if r.large != large {
				switches++
			}
		}
		// A reader that is never ahead of the messages (one byte per read) switches at every
		// change; the others only when a message ends where the data read so far ends.
		if name == "bytes" && switches < 10 {
			t.Errorf("%s: the reader switched buffers %d times; the stream should make it switch often", name, switches)
		}
	}
}

// A connection that receives only small messages holds the idle buffer; one that receives
// blocks holds the block buffer, and gives it back once blocks stop.
func TestReaderHoldsTheBlockBufferOnlyWhileBlocksArrive(t *testing.T) {
	var stream []byte
	for i := range 4 {
		stream = AppendMessage(stream, blockMessage(i))
	}
	for range idleAfter + 1 {
		stream = AppendMessage(stream, Message{ID: Have, Index: 1})
	}
	r := NewReader(iotest.OneByteReader(bytes.NewReader(stream)), BlockSize)
	if _, err := r.Read(); err != nil || r.large {
		t.Fatalf("after the first block: large=%v err=%v; the first block is read through the idle buffer", r.large, err)
	}
	if _, err := r.Read(); err != nil || !r.large {
		t.Fatalf("after the second block: large=%v err=%v; want the block buffer", r.large, err)
	}
	for range 2 + idleAfter {
		if _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Read(); err != nil || r.large || r.big != nil {
		t.Fatalf("after %d Haves: large=%v, payload buffer %d bytes; want the idle buffer alone", idleAfter+1, r.large, cap(r.big))
	}
}
