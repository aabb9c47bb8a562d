package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds Read arbitrary streams: it must never panic, errors must be the documented
// ones, and the messages it accepts must encode back to exactly the bytes it consumed. The seed
// corpus (every message, every malformed case) runs as part of `go test`.
func FuzzReader(f *testing.F) {
	var all []byte
	for _, m := range everyMessage {
		enc := AppendMessage(nil, m)
		f.Add(enc)
		all = append(all, enc...)
	}
	f.Add(all)
	for _, tc := range malformedStreams {
		f.Add(tc.in)
		f.Add(append(bytes.Clone(all), tc.in...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), BlockSize)
		var again []byte
		for {
			m, err := r.Read()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
					!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLong) {
					t.Fatalf("undocumented error %v", err)
				}
				break
			}
			if bound := BlockSize; len(m.Payload) > bound && (m.ID != Hashes || len(m.Payload) > maxHashesPayload) &&
				(m.ID != Extended || len(m.Payload) > maxExtendedPayload) {
				t.Fatalf("payload of %d bytes past the bound", len(m.Payload))
			}
			again = AppendMessage(again, m)
		}
		if !bytes.HasPrefix(data, again) {
			t.Fatalf("re-encoding gives % x, not a prefix of the input % x", again, data)
		}
	})
}
