package core

// The peer's requests to us: a request from an unchoked peer for a piece we have is queued (at
// most MaxPeerRequests: more is a flood), and the shell's writer takes them in order with
// NextUploads. A choke drops them (choking.go).

// onRequest queues a valid request from an unchoked peer for a piece we have. Otherwise a fast
// peer gets a Reject; a request while choked is ignored by BEP 3 peers.
func (c *Core) onRequest(p *peerConn, b Block) error {
	if err := c.validBlock(b); err != nil {
		return err
	}
	if p.amChoking || !c.picker.Have(b.Piece) {
		if p.Fast {
			c.send(p.key, rejectMessage(b))
		}
		return nil
	}
	if len(p.uploads) >= c.cfg.MaxPeerRequests {
		return protocolError("more than %d requests outstanding", c.cfg.MaxPeerRequests)
	}
	p.uploads = append(p.uploads, b)
	if len(p.uploads) == 1 {
		c.emit(Effect{Kind: ServeReady, Conn: p.key})
	}
	return nil
}

// onCancel drops a queued request (a fast peer gets a Reject for it, as BEP 6 asks).
func (c *Core) onCancel(p *peerConn, b Block) error {
	if err := c.validBlock(b); err != nil {
		return err
	}
	for i, u := range p.uploads {
		if u == b {
			p.uploads = append(p.uploads[:i], p.uploads[i+1:]...)
			if p.Fast {
				c.send(p.key, rejectMessage(b))
			}
			return nil
		}
	}
	return nil
}

// NextUploads appends to dst up to maxBlocks of key's peer's oldest queued requests and takes
// them off its queue; none while we choke it.
func (c *Core) NextUploads(key ConnKey, dst []Block, maxBlocks int) []Block {
	p := c.conns[key]
	if p == nil || p.amChoking {
		return dst
	}
	n := min(len(p.uploads), maxBlocks)
	dst = append(dst, p.uploads[:n]...)
	p.uploads = append(p.uploads[:0], p.uploads[n:]...) // keep the array: no allocation per batch
	return dst
}
