package wire

import (
	"io"
	"net"
	"testing"
)

// loopReader replays data forever.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

// BenchmarkReadPiece decodes 16 KiB Piece messages (MB/s of blocks).
func BenchmarkReadPiece(b *testing.B) {
	var stream []byte
	block := make([]byte, BlockSize)
	for i := range 64 {
		stream = AppendMessage(stream, Message{ID: Piece, Index: uint32(i), Payload: block})
	}
	r := NewReader(&loopReader{data: stream}, BlockSize)
	b.SetBytes(BlockSize)
	b.ReportAllocs()
	for b.Loop() {
		m, err := r.Read()
		if err != nil || len(m.Payload) != BlockSize {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadPieceTCP reads 16 KiB Piece messages over a loopback TCP connection.
func BenchmarkReadPieceTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		msg := AppendMessage(nil, Message{ID: Piece, Payload: make([]byte, BlockSize)})
		for {
			if _, err := c.Write(msg); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := NewReader(c, BlockSize)
	b.SetBytes(BlockSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Read(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWritePiece compares sending a block copied behind its header (AppendMessage) with
// writing the header and the block as two buffers (AppendPieceHeader and net.Buffers).
func BenchmarkWritePiece(b *testing.B) {
	block := make([]byte, BlockSize)
	b.Run("AppendMessage", func(b *testing.B) {
		buf := make([]byte, 0, 2*BlockSize)
		b.SetBytes(BlockSize)
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendMessage(buf[:0], Message{ID: Piece, Index: 1, Payload: block})
			_, _ = io.Discard.Write(buf)
		}
	})
	b.Run("HeaderAndBlock", func(b *testing.B) {
		hdr := make([]byte, 0, 16)
		b.SetBytes(BlockSize)
		b.ReportAllocs()
		for b.Loop() {
			hdr = AppendPieceHeader(hdr[:0], 1, 0, len(block))
			bufs := net.Buffers{hdr, block}
			_, _ = bufs.WriteTo(io.Discard)
		}
	})
}

func TestReadDoesNotAllocate(t *testing.T) {
	var stream []byte
	stream = AppendMessage(stream, Message{ID: Piece, Payload: make([]byte, BlockSize)})
	stream = AppendMessage(stream, Message{ID: Have, Index: 3})
	r := NewReader(&loopReader{data: stream}, BlockSize)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Read allocates %v times per message", allocs)
	}
}
