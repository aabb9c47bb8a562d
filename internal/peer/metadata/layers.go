package metadata

import (
	"fmt"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/wire"
)

// The piece layers by BEP 52 hash requests: a file's piece layer, padded to a power of two, is
// asked in the aligned chunks of core.PieceLayerRanges (what MiniBit peers answer), each with
// the proof that takes the chunk's subtree root to the file's pieces root (the uncle hashes of
// every layer above it), so each answer is checked alone and a lying peer is caught at once;
// metainfo's SetPieceLayer checks the whole layer again.

// chunk is one hash request: hashes [index, index+length) of file's piece layer.
type chunk struct {
	file          int
	root          [32]byte
	base          uint32 // the piece layer's layer number: log2 of a piece's leaves
	index, length uint32
	proof         uint32 // the layers above the chunk's subtree root, below the root
	pieces        int    // the file's piece count (the layer's unpadded length)
}

// hashRange is the chunk's request.
func (c *chunk) hashRange() wire.HashRange {
	return wire.HashRange{PiecesRoot: c.root, BaseLayer: c.base, Index: c.index, Length: c.length, ProofLayers: c.proof}
}

// layerState is the piece layers still missing: chunks to ask, and the layers being filled.
type layerState struct {
	meta    *metainfo.MetaInfo
	queue   []*chunk
	layers  map[int][][32]byte // file -> its layer being filled
	missing map[int]int        // file -> chunks not yet proven
}

func newLayerState(meta *metainfo.MetaInfo) *layerState {
	s := &layerState{meta: meta, layers: make(map[int][][32]byte), missing: make(map[int]int)}
	leaves := int(meta.Info.PieceLength / metainfo.BlockSize)
	for _, file := range meta.NeedsPieceLayers() {
		_, pieces := meta.FilePieces(file)
		root := meta.Info.Files[file].PiecesRoot
		for _, r := range core.PieceLayerRanges(root, pieces, leaves) {
			s.queue = append(s.queue, &chunk{file: file, root: root, base: r.BaseLayer, index: r.Index,
				length: r.Length, proof: r.ProofLayers, pieces: pieces})
			s.missing[file]++
		}
		s.layers[file] = make([][32]byte, pieces)
	}
	return s
}

// claim takes the next chunk to ask, nil when every one is asked or proven.
func (s *layerState) claim() *chunk {
	if len(s.queue) == 0 {
		return nil
	}
	c := s.queue[0]
	s.queue = s.queue[1:]
	return c
}

// release puts back a chunk that was not answered.
func (s *layerState) release(c *chunk) { s.queue = append(s.queue, c) }

// onHashes checks p's answer to its hash request: hashes that do not prove drop p; proven
// hashes fill the layer, and a complete layer is set on the metainfo. Called under mu.
func (f *fetch) onHashes(p *peerConn, m wire.Message) error {
	r, hashes, err := wire.ParseHashes(m.Payload)
	if err != nil {
		return err
	}
	c := p.chunk
	if c == nil || r != c.hashRange() {
		return nil // an answer we no longer wait for
	}
	p.chunk = nil
	if err := core.VerifyPieceLayerHashes(c.hashRange(), hashes); err != nil {
		f.layers.release(c)
		return fmt.Errorf("%w: %w", errBadPeer, err)
	}
	s := f.layers
	layer := s.layers[c.file]
	for i := range int(c.length) {
		if k := int(c.index) + i; k < c.pieces {
			copy(layer[k][:], hashes[i*32:])
		}
	}
	if s.missing[c.file]--; s.missing[c.file] > 0 {
		return nil
	}
	if err := f.meta.SetPieceLayer(c.file, layer); err != nil {
		return fmt.Errorf("%w: %w", errBadPeer, err) // cannot happen once every chunk proved
	}
	delete(s.layers, c.file)
	f.finishIfComplete()
	return nil
}
