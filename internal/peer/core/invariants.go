package core

import "fmt"

// CheckInvariants verifies that the core's records agree with each other; tests (and the
// simulator) call it after every event. It returns the first broken invariant. Its cost is
// O(connections + started pieces' blocks + pieces).
func (c *Core) CheckInvariants() error {
	if err := c.checkRegistry(); err != nil {
		return err
	}
	if err := c.checkBook(); err != nil {
		return err
	}
	for piece := range c.meta.NumPieces() {
		if c.have.Has(piece) != c.picker.Have(piece) {
			return fmt.Errorf("piece %d: have bitfield %v, picker %v", piece, c.have.Has(piece), c.picker.Have(piece))
		}
	}
	return nil
}

// checkRegistry: every connection is indexed by its id, parole is counted, a choked peer has no
// queued requests and nobody queued more than the bound.
func (c *Core) checkRegistry() error {
	paroled := 0
	layerBudget := c.layerBudget()
	for i, p := range c.order {
		if c.conns[p.key] != p || (i > 0 && c.order[i-1].key >= p.key) {
			return fmt.Errorf("connection %d: not in the registry, or out of key order", p.key)
		}
	}
	for key, p := range c.conns {
		if p.key != key || c.byID[p.ID] != p {
			return fmt.Errorf("connection %d: registry and id index disagree", key)
		}
		if p.paroled {
			paroled++
		}
		if p.ext.served > c.metadataBudget() || p.ext.layersServed > layerBudget {
			return fmt.Errorf("connection %d: %d metadata and %d piece layer bytes served, past the budgets", key, p.ext.served, p.ext.layersServed)
		}
		if p.hasCount != p.has.Count() {
			return fmt.Errorf("connection %d: has %d pieces, counted %d", key, p.has.Count(), p.hasCount)
		}
		if (p.amChoking && len(p.uploads) > 0) || len(p.uploads) > c.cfg.MaxPeerRequests {
			return fmt.Errorf("connection %d: %d queued requests while choking=%v", key, len(p.uploads), p.amChoking)
		}
	}
	if len(c.byID) != len(c.conns) || len(c.order) != len(c.conns) || paroled != c.paroled {
		return fmt.Errorf("%d ids for %d connections; %d on parole, counted %d", len(c.byID), len(c.conns), paroled, c.paroled)
	}
	return c.checkSlots()
}

// checkSlots: every connection holds a slot (reserved slots of handshakes under way come on
// top), the counts by address add up, and the half-open pool counts what it holds.
func (c *Core) checkSlots() error {
	in, out := 0, 0
	for _, p := range c.conns {
		if p.Outgoing {
			out++
		} else {
			in++
		}
	}
	byIP := 0
	for _, n := range c.slots.byIP {
		byIP += n
	}
	if c.slots.in < in || c.slots.out < out || byIP != c.slots.in+c.slots.out || c.slots.in+c.slots.out > c.limits.maxPeers {
		return fmt.Errorf("slots: %d in and %d out counted (%d by address, max %d) for %d and %d connections",
			c.slots.in, c.slots.out, byIP, c.limits.maxPeers, in, out)
	}
	held := 0
	for _, hs := range c.halfOpen.byIP {
		held += len(hs)
	}
	if held != c.halfOpen.total || held > c.limits.halfOpen {
		return fmt.Errorf("half-open pool: %d held, %d counted, bound %d", held, c.halfOpen.total, c.limits.halfOpen)
	}
	return nil
}

// checkBook: each outstanding request is held by a connected peer and counted once; a started
// piece holds a buffer unless the verifier has it; received counts match; owners are on parole.
func (c *Core) checkBook() error {
	outstanding := make(map[ConnKey]int)
	for _, sp := range c.picker.active {
		received := 0
		for j, b := range sp.blocks {
			if b.received {
				received++
				if b.nHolders > 0 {
					return fmt.Errorf("piece %d block %d: received and still requested", sp.piece, j)
				}
			}
			for _, h := range b.holders[:b.nHolders] {
				if c.conns[h.key] == nil {
					return fmt.Errorf("piece %d block %d: requested from %d, not connected", sp.piece, j, h.key)
				}
				outstanding[h.key]++
			}
		}
		verifying := c.picker.state[sp.piece] == statusComplete
		if received != sp.received || (sp.data == nil) != verifying {
			return fmt.Errorf("piece %d: %d blocks received, counted %d; buffer %v while verifying=%v",
				sp.piece, received, sp.received, sp.data != nil, verifying)
		}
		if owner := c.conns[sp.owner]; sp.owner != 0 && (owner == nil || !owner.paroled) {
			return fmt.Errorf("piece %d: owned by %d, not a connection on parole", sp.piece, sp.owner)
		}
	}
	for key, n := range c.picker.outstanding {
		if n != outstanding[key] {
			return fmt.Errorf("connection %d: %d requests counted, %d recorded", key, n, outstanding[key])
		}
	}
	if c.buffers.lent != len(c.picker.active) || c.buffers.lent > c.buffers.max {
		return fmt.Errorf("%d buffers lent for %d started pieces (max %d)", c.buffers.lent, len(c.picker.active), c.buffers.max)
	}
	return nil
}
