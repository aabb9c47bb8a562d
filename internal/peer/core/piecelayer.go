package core

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/bits"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/wire"
)

// Piece layers by BEP 52 hash requests, for a peer that fetched the info dict by ut_metadata
// (package peer/metadata) and lacks the piece layers, which live outside it. A file's piece
// layer, padded to a power of two, is asked in the aligned chunks PieceLayerRanges makes, each
// with the uncle hashes that prove it to the file's pieces root. We answer from the metainfo
// (no disk), whatever pieces we hold, within a per-connection budget.

// PieceLayerRanges returns the hash requests that fetch a file's piece layer of pieces hashes
// (pieces >= 2) in a torrent whose pieces hold leavesPerPiece leaves: aligned chunks of
// min(wire.MaxHashes, padded) hashes at the piece layer, each with the proof layers from the
// chunk's subtree root up to the root; the chunks wholly in the padding are left out.
func PieceLayerRanges(root [32]byte, pieces, leavesPerPiece int) []wire.HashRange {
	padded := nextPowerOfTwo(pieces)
	length := min(wire.MaxHashes, padded)
	shape := wire.HashRange{
		PiecesRoot:  root,
		BaseLayer:   uint32(bits.Len(uint(leavesPerPiece)) - 1),
		Length:      uint32(length),
		ProofLayers: uint32(bits.Len(uint(padded/length)) - 1),
	}
	var out []wire.HashRange
	for index := 0; index < pieces; index += length {
		shape.Index = uint32(index)
		out = append(out, shape)
	}
	return out
}

// VerifyPieceLayerHashes checks an answer to one of PieceLayerRanges' requests r: hashes are its
// base hashes, then exactly its proof's uncle hashes, lowest first, and they must hash up to
// r's pieces root.
func VerifyPieceLayerHashes(r wire.HashRange, hashes []byte) error {
	if want := int(r.Length+r.ProofLayers) * 32; len(hashes) != want {
		return fmt.Errorf("%d bytes of hashes for a range of %d and %d proof layers", len(hashes), r.Length, r.ProofLayers)
	}
	node := reduce(bytes.Clone(hashes[:r.Length*32]))
	pos := r.Index / r.Length
	for k := range r.ProofLayers {
		uncle := [32]byte(hashes[(r.Length+k)*32:])
		if pos%2 == 0 {
			node = hashPair(node, uncle)
		} else {
			node = hashPair(uncle, node)
		}
		pos /= 2
	}
	if node != r.PiecesRoot {
		return fmt.Errorf("hashes %d+%d of a piece layer do not prove to its pieces root", r.Index, r.Length)
	}
	return nil
}

// layerServeSlack is what a connection may fetch of piece layers beyond twice their size.
const layerServeSlack = 64 << 10

// servePieceLayer answers r if it is one of PieceLayerRanges' requests for a piece layer we
// hold, and reports whether it was; past the connection's budget it is rejected.
func (c *Core) servePieceLayer(p *peerConn, r wire.HashRange) bool {
	file, ok := c.meta.FileByRoot(r.PiecesRoot)
	layer := c.meta.FilePieceLayer(file)
	if !ok || len(layer) < 2 {
		return false
	}
	want := PieceLayerRanges(r.PiecesRoot, len(layer), c.leavesPerPiece())[0]
	if r.BaseLayer != want.BaseLayer || r.Length != want.Length || r.ProofLayers != want.ProofLayers ||
		r.Index%r.Length != 0 || int(r.Index) >= len(layer) {
		return false
	}
	size := int64(r.Length+r.ProofLayers) * 32
	if p.ext.layersServed+size > c.layerBudget() {
		c.counters.HashRequestsRejected++
		c.send(p.key, r.Message(wire.HashReject))
		return true
	}
	p.ext.layersServed += size
	c.counters.HashRequestsServed++
	c.send(p.key, r.HashesMessage(c.pieceLayerHashes(file, layer, r)))
	return true
}

// layerBudget is the piece layer bytes one connection may be sent: twice every layer, and a
// slack.
func (c *Core) layerBudget() int64 {
	var n int64
	for file := range c.meta.Info.Files {
		n += int64(len(c.meta.FilePieceLayer(file))) * 32
	}
	return 2*n + layerServeSlack
}

// pieceLayerHashes is the answer to r: its base hashes (padded with the hash of an all-zero
// piece), then its uncle hashes, lowest first.
func (c *Core) pieceLayerHashes(file int, layer [][32]byte, r wire.HashRange) []byte {
	zero := zeroSubtreeRoot(c.leavesPerPiece())
	out := make([]byte, 0, (r.Length+r.ProofLayers)*32)
	for k := int(r.Index); k < int(r.Index+r.Length); k++ {
		h := zero
		if k < len(layer) {
			h = layer[k]
		}
		out = append(out, h[:]...)
	}
	levels := c.layerTree(file, layer, int(r.Length))
	pos := int(r.Index / r.Length)
	for lvl := range int(r.ProofLayers) {
		out = append(out, levels[lvl][pos^1][:]...)
		pos /= 2
	}
	return out
}

// layerTree returns the merkle tree above file's chunks of length hashes: its chunks' roots,
// then each layer up to the root's children, made once per file and kept.
func (c *Core) layerTree(file int, layer [][32]byte, length int) [][][32]byte {
	if t, ok := c.layerTrees[file]; ok {
		return t
	}
	zero := zeroSubtreeRoot(c.leavesPerPiece())
	padded := nextPowerOfTwo(len(layer))
	roots := make([][32]byte, padded/length)
	buf := make([]byte, length*32)
	for k := range roots {
		for i := range length {
			h := zero
			if j := k*length + i; j < len(layer) {
				h = layer[j]
			}
			copy(buf[i*32:], h[:])
		}
		roots[k] = reduce(buf)
	}
	levels := [][][32]byte{roots}
	for cur := roots; len(cur) > 1; {
		next := make([][32]byte, len(cur)/2)
		for k := range next {
			next[k] = hashPair(cur[2*k], cur[2*k+1])
		}
		levels = append(levels, next)
		cur = next
	}
	if c.layerTrees == nil {
		c.layerTrees = make(map[int][][][32]byte)
	}
	c.layerTrees[file] = levels
	return levels
}

// leavesPerPiece is how many 16 KiB leaves a whole piece holds.
func (c *Core) leavesPerPiece() int { return int(c.meta.Info.PieceLength / metainfo.BlockSize) }

// reduce hashes a power-of-two count of hashes (overwritten) up to their root.
func reduce(h []byte) [32]byte {
	for n := len(h) / 32; n > 1; n /= 2 {
		for k := range n / 2 {
			sum := sha256.Sum256(h[2*k*32 : (2*k+2)*32])
			copy(h[k*32:], sum[:])
		}
	}
	var root [32]byte
	copy(root[:], h)
	return root
}

func hashPair(a, b [32]byte) [32]byte {
	var pair [64]byte
	copy(pair[:], a[:])
	copy(pair[32:], b[:])
	return sha256.Sum256(pair[:])
}

// zeroSubtreeRoot is the root of a subtree of leaves (a power of two) zero leaves: the hash of
// an all-zero piece in a piece layer's padding.
func zeroSubtreeRoot(leaves int) [32]byte {
	var h [32]byte
	for ; leaves > 1; leaves /= 2 {
		h = hashPair(h, h)
	}
	return h
}

// nextPowerOfTwo is the smallest power of two >= n (1 for n <= 1).
func nextPowerOfTwo(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}
