package core

import (
	"log/slog"

	"github.com/minibit-io/minibit/internal/wire"
)

// EffectKind is what the shell is asked to do.
type EffectKind uint8

const (
	// Send queues Msg to Conn, after what was queued before (its control queue).
	Send EffectKind = iota
	// ServeReady tells Conn's writer that the peer's requests wait (take them with NextUploads).
	ServeReady
	// Disconnect closes Conn because of Err; the core has forgotten it already.
	Disconnect
	// Verify hashes piece Piece's Data (the buffer is the verifier's until PieceChecked) and, if
	// it passes, writes it; NeedLeaves asks for its leaf hashes even then (a suspect piece).
	Verify
	// ServeHashes reads the pieces of Range and sends their leaf hashes to Conn (or a hash
	// reject), then calls HashesServed.
	ServeHashes
	// Banned reports that Peer was banned (the dialer forgets its address).
	Banned
	// Complete reports that every piece is verified and written: the file can be finished.
	Complete
	// Log asks for a log record: Level, Text and Attrs.
	Log
)

// Effect is one thing the core asks its shell to do. Which fields are set depends on Kind.
type Effect struct {
	Kind       EffectKind
	Conn       ConnKey
	Msg        wire.Message
	Err        error
	Piece      int
	Data       []byte
	NeedLeaves bool
	Range      wire.HashRange
	Peer       Identity
	Level      slog.Level
	Text       string
	Attrs      []any
}

// emit records an effect for the shell.
func (c *Core) emit(e Effect) { c.out = append(c.out, e) }

// send records a message for conn key.
func (c *Core) send(key ConnKey, m wire.Message) {
	c.out = append(c.out, Effect{Kind: Send, Conn: key, Msg: m})
}

// logf records a log record for the shell.
func (c *Core) logf(level slog.Level, text string, attrs ...any) {
	c.out = append(c.out, Effect{Kind: Log, Level: level, Text: text, Attrs: attrs})
}

// Effects returns the effects of the events since the last call, in order, and forgets them.
// The slice is the core's: it is valid until the next event.
func (c *Core) Effects() []Effect {
	out := c.out
	clear(c.spent)
	c.out, c.spent = c.spent[:0], out
	return out
}
