package peer

import (
	"bytes"
	"testing"
)

// A writer's large buffer goes back to the pool when it is done, and a grown buffer keeps the
// control messages already in it.
func TestWriteBuffersAreLentNotKept(t *testing.T) {
	buf := growWriteBuffer(nil, 64<<10)
	buf = append(buf, bytes.Repeat([]byte{1}, 64<<10)...)
	if kept := recycleWriteBuffer(buf); kept != nil {
		t.Fatalf("the writer kept a %d-byte buffer after sending", cap(kept))
	}
	small := append(recycleWriteBuffer(make([]byte, 0, 64)), "have"...)
	if cap(small) != 64 {
		t.Fatalf("a small buffer was not kept: cap %d", cap(small))
	}
	grown := growWriteBuffer(small, 32<<10)
	if string(grown) != "have" || cap(grown)-len(grown) < 32<<10 {
		t.Fatalf("grown buffer %q with %d bytes of room", grown[:min(len(grown), 8)], cap(grown)-len(grown))
	}
}
