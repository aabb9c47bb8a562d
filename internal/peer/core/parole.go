package core

import (
	"log/slog"
	"net/netip"
	"slices"
	"time"
)

// Parole and bans. A peer that sent part of a piece that failed is on parole (libtorrent's
// parole mode): it downloads whole pieces alone (requests.go's pickable), so that a second bad
// piece of its own is proof by itself; a good piece sent alone, or proven leaves matching its
// blocks, lift it. A peer proven to send bad data (blame.go) is banned: its IP, and its id
// unless another IP presented that id (bans.go), and its connections are closed. Nobody is
// banned on suspicion.

// setParole puts p on parole (on) or lifts it, keeping the count of peers on parole and
// freeing the pieces it owned.
func (c *Core) setParole(p *peerConn, on bool) {
	if p.paroled == on {
		return
	}
	p.paroled = on
	if on {
		c.paroled++
		return
	}
	c.paroled--
	for _, sp := range c.picker.active {
		if sp.owner == p.key {
			sp.owner = 0
		}
	}
}

// claim makes a piece that a peer on parole was just asked for its alone (unless another owns
// it already).
func (p *Picker) claim(piece int, owner ConnKey) {
	if sp := p.started[piece]; sp != nil && sp.owner == 0 {
		sp.owner = owner
	}
}

// ban bans a proven peer and drops its connections: those from its IP, and the one with its id
// when the id was banned too.
func (c *Core) ban(now time.Time, id Identity, reason BanReason, piece int, why string) {
	if !c.bans.Ban(id, reason) {
		return
	}
	c.logf(slog.LevelWarn, "Peer banned", "peer", id.Addr.String(), "peerID", string(SanitizeID(id.ID)),
		"reason", reason.String(), "piece", piece, "proof", why)
	c.emit(Effect{Kind: Banned, Peer: id})
	c.neverDial(id.Addr)
	ip := id.Addr.Addr().Unmap()
	dropped := false
	for _, p := range slices.Clone(c.order) { // drop removes from the order
		if p.Addr.Addr().Unmap() == ip || c.bans.Banned(netip.Addr{}, p.ID) {
			c.drop(now, p, ErrBanned)
			dropped = true
		}
	}
	if dropped && !now.IsZero() {
		c.fillAll(now) // their requests went back to the picker
	}
}

// SanitizeID makes a peer id printable.
func SanitizeID(id [20]byte) []byte {
	out := make([]byte, len(id))
	for i, b := range id {
		if b < 0x20 || b > 0x7e {
			b = '.'
		}
		out[i] = b
	}
	return out
}
