package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// AppendMessage appends m's encoding (length prefix, ID, fields, payload) to dst and returns
// the extended slice. It allocates nothing when dst has room. For Piece, the block is Payload
// (Length is ignored); for an ID it does not know, it writes the ID and Payload.
func AppendMessage(dst []byte, m Message) []byte {
	if m.KeepAlive {
		return binary.BigEndian.AppendUint32(dst, 0)
	}
	switch m.ID {
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
		return appendHeader(dst, m.ID, 0)
	case Have, Suggest, AllowedFast:
		dst = appendHeader(dst, m.ID, 4)
		return binary.BigEndian.AppendUint32(dst, m.Index)
	case Request, Cancel, Reject:
		dst = appendHeader(dst, m.ID, 12)
		dst = binary.BigEndian.AppendUint32(dst, m.Index)
		dst = binary.BigEndian.AppendUint32(dst, m.Begin)
		return binary.BigEndian.AppendUint32(dst, m.Length)
	case Port:
		dst = appendHeader(dst, m.ID, 2)
		return binary.BigEndian.AppendUint16(dst, m.Port)
	case Piece:
		dst = AppendPieceHeader(dst, m.Index, m.Begin, len(m.Payload))
		return append(dst, m.Payload...)
	}
	dst = appendHeader(dst, m.ID, len(m.Payload))
	return append(dst, m.Payload...)
}

// AppendPieceHeader appends the header of a Piece message carrying a block of blockLen bytes:
// the block itself follows it on the wire. With it a sender can write the header and a block
// that lives elsewhere (writev) instead of copying the block behind the header.
func AppendPieceHeader(dst []byte, index, begin uint32, blockLen int) []byte {
	dst = appendHeader(dst, Piece, pieceHeaderSize+blockLen)
	dst = binary.BigEndian.AppendUint32(dst, index)
	return binary.BigEndian.AppendUint32(dst, begin)
}

// appendHeader appends the length prefix and ID of a message with payloadLen bytes after the ID.
func appendHeader(dst []byte, id ID, payloadLen int) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(1+payloadLen))
	return append(dst, byte(id))
}

// readBufferSize is the Reader's buffer while blocks arrive: several 16 KiB blocks, so that a
// message up to this size is decoded in place from the buffer (no second copy) and small ones
// need no system call. Between blocks a connection reads through idleBufferSize instead, so that
// the many connections that only exchange Have messages (most of a large swarm's) hold 4 KiB
// each rather than 64 KiB.
const (
	readBufferSize = 64 << 10
	idleBufferSize = 4 << 10
)

// blockBuffers recycles the large buffers of connections that stopped receiving blocks.
var blockBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// Reader decodes messages from a connection. It bounds what a peer can make it allocate, and
// returns a Message whose Payload aliases its buffer until the next Read. A Reader is owned by
// one goroutine (the connection's reader). It sets no deadlines: the caller sets them on the
// connection.
type Reader struct {
	src        io.Reader
	br         *bufio.Reader // small or large, whichever is in use
	small      *bufio.Reader
	large      bool // br is a block buffer from blockBuffers
	sincePiece int  // messages since the last Piece
	maxPayload int
	big        []byte // holds payloads larger than br's buffer; grows up to maxPayload
	prefix     [4]byte
}

// maxPayloadLimit caps the maxPayload of NewReader (1 GiB), keeping lengths far from overflow.
const maxPayloadLimit = 1 << 30

// NewReader returns a Reader of r that refuses payloads (a bitfield, a block) longer than
// maxPayload bytes with ErrTooLong; maxPayload is raised to BlockSize and capped at 1 GiB.
func NewReader(r io.Reader, maxPayload int) *Reader {
	small := bufio.NewReaderSize(r, idleBufferSize)
	return &Reader{
		src: r, br: small, small: small, sincePiece: idleAfter,
		maxPayload: min(max(maxPayload, BlockSize), maxPayloadLimit),
	}
}

// idleAfter is how many messages without a block make a connection idle: Have messages
// interleave with blocks on a busy connection, and should not make it switch buffers.
const idleAfter = 16

// chooseBuffer switches between the small and the large buffer when nothing is buffered: the
// large one right after a Piece message, the small one (the large going back to the pool, with
// any payload buffer) after idleAfter messages without one.
func (r *Reader) chooseBuffer() {
	if r.br.Buffered() > 0 {
		return
	}
	busy := r.sincePiece == 0
	if busy == r.large || (!busy && r.sincePiece < idleAfter) {
		return
	}
	if busy {
		r.br = blockBuffers.Get().(*bufio.Reader)
		r.br.Reset(r.src)
		r.large = true
		return
	}
	r.br.Reset(nil)
	blockBuffers.Put(r.br)
	r.small.Reset(r.src)
	r.br, r.large, r.big = r.small, false, nil
}

// Read returns the next message. It checks each message's length against its ID before reading
// the rest: errors wrap ErrTooLong (a length past the bound) or ErrMalformed (a length wrong for
// the ID, an unknown ID); other errors are the connection's (io.EOF between messages,
// io.ErrUnexpectedEOF inside one). After an error the stream's position is lost: close the
// connection.
func (r *Reader) Read() (Message, error) {
	r.chooseBuffer()
	if _, err := io.ReadFull(r.br, r.prefix[:]); err != nil {
		return Message{}, err
	}
	n := binary.BigEndian.Uint32(r.prefix[:])
	if n == 0 {
		r.sincePiece = idleAfter // a keep-alive: the connection was silent
		return Message{KeepAlive: true}, nil
	}
	if bound := r.maxLength(); uint64(n) > uint64(bound) {
		return Message{}, fmt.Errorf("%w: length prefix %d, the bound is %d", ErrTooLong, n, bound)
	}
	idByte, err := r.br.ReadByte()
	if err != nil {
		return Message{}, unexpectedEOF(err)
	}
	id := ID(idByte)
	payloadLen := int(n) - 1
	if err := r.checkLength(id, payloadLen); err != nil {
		return Message{}, err
	}
	payload, err := r.readPayload(payloadLen)
	if err != nil {
		return Message{}, err
	}
	r.sincePiece++
	if id == Piece {
		r.sincePiece = 0
	}
	return decode(id, payload), nil
}

// maxLength is the largest length prefix Read accepts: a block's Piece message, a Hashes
// message or an extended message (BEP 10), whichever is longer.
func (r *Reader) maxLength() int {
	return 1 + max(pieceHeaderSize+r.maxPayload, maxHashesPayload, maxExtendedPayload)
}

// checkLength checks a payload length (after the ID byte) against the message type.
func (r *Reader) checkLength(id ID, n int) error {
	if want, fixed := fixedPayload(id); fixed {
		if n != want {
			return fmt.Errorf("%w: %v message with %d payload bytes, want %d", ErrMalformed, id, n, want)
		}
		return nil
	}
	switch id {
	case BitfieldMsg:
		if n > r.maxPayload {
			return fmt.Errorf("%w: bitfield of %d bytes, the bound is %d", ErrTooLong, n, r.maxPayload)
		}
	case Piece:
		if n <= pieceHeaderSize {
			return fmt.Errorf("%w: piece message with %d payload bytes, want more than %d", ErrMalformed, n, pieceHeaderSize)
		}
		if n-pieceHeaderSize > r.maxPayload {
			return fmt.Errorf("%w: block of %d bytes, the bound is %d", ErrTooLong, n-pieceHeaderSize, r.maxPayload)
		}
	case Hashes:
		return checkHashesLength(n)
	case Extended:
		return checkExtendedLength(n)
	default:
		return fmt.Errorf("%w: unknown message id %d", ErrMalformed, uint8(id))
	}
	return nil
}

// readPayload reads n bytes: in place in the bufio buffer when they fit, else into r.big.
func (r *Reader) readPayload(n int) ([]byte, error) {
	if n <= r.br.Size() {
		p, err := r.br.Peek(n)
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		_, _ = r.br.Discard(n) // cannot fail: Peek returned n bytes
		return p, nil
	}
	if cap(r.big) < n {
		r.big = make([]byte, n)
	}
	if _, err := io.ReadFull(r.br, r.big[:n]); err != nil {
		return nil, unexpectedEOF(err)
	}
	return r.big[:n], nil
}

// decode fills a Message from a payload whose length checkLength accepted.
func decode(id ID, p []byte) Message {
	m := Message{ID: id}
	switch id {
	case Have, Suggest, AllowedFast:
		m.Index = binary.BigEndian.Uint32(p)
	case Request, Cancel, Reject:
		m.Index = binary.BigEndian.Uint32(p)
		m.Begin = binary.BigEndian.Uint32(p[4:])
		m.Length = binary.BigEndian.Uint32(p[8:])
	case Port:
		m.Port = binary.BigEndian.Uint16(p)
	case Piece:
		m.Index = binary.BigEndian.Uint32(p)
		m.Begin = binary.BigEndian.Uint32(p[4:])
		m.Payload = p[pieceHeaderSize:]
		m.Length = uint32(len(m.Payload))
	case BitfieldMsg, HashRequest, Hashes, HashReject, Extended:
		m.Payload = p
	}
	return m
}

// unexpectedEOF turns an EOF inside a message into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Writer encodes messages into its own buffer and writes each batch with one Write call,
// allocating nothing once the buffer has grown. A Writer is owned by one goroutine (the
// connection's writer). It sets no deadlines: the caller sets them on the connection.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteMessages writes ms in one Write call.
func (w *Writer) WriteMessages(ms ...Message) error {
	w.buf = w.buf[:0]
	for _, m := range ms {
		w.buf = AppendMessage(w.buf, m)
	}
	_, err := w.w.Write(w.buf)
	return err
}
