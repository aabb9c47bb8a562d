package metainfo

import (
	"crypto/sha256"
	"math/bits"
)

// The v2 merkle tree (BEP 52): leaves are the SHA-256 of each 16 KiB block (the last block of
// the file hashed as it is, unpadded); leaves past the end of the file are 32 zero bytes; each
// inner node is the SHA-256 of its two children concatenated. Hashes are kept in flat byte
// slices, 32 bytes each, so two siblings are one contiguous 64-byte input.

// hashSize is the size of a SHA-256 hash.
const hashSize = sha256.Size

// appendBlockHashes appends the SHA-256 of each BlockSize block of data (the last may be short).
func appendBlockHashes(dst, data []byte) []byte {
	for len(data) > 0 {
		n := min(len(data), BlockSize)
		sum := sha256.Sum256(data[:n])
		dst = append(dst, sum[:]...)
		data = data[n:]
	}
	return dst
}

// appendPadding appends copies of pad until hashes holds count hashes.
func appendPadding(hashes []byte, count int, pad [32]byte) []byte {
	for len(hashes) < count*hashSize {
		hashes = append(hashes, pad[:]...)
	}
	return hashes
}

// reduceInPlace hashes pairs level by level until one hash remains and returns it. The number
// of hashes must be a power of two; hashes is overwritten.
func reduceInPlace(hashes []byte) [32]byte {
	for n := len(hashes) / hashSize; n > 1; n /= 2 {
		for k := range n / 2 {
			sum := sha256.Sum256(hashes[2*k*hashSize : (2*k+2)*hashSize])
			copy(hashes[k*hashSize:], sum[:])
		}
	}
	var root [32]byte
	copy(root[:], hashes)
	return root
}

// zeroSubtreeRoot is the root of a subtree of the given number (a power of two) of zero leaves.
func zeroSubtreeRoot(leaves int) [32]byte {
	var h [32]byte
	var pair [2 * hashSize]byte
	for ; leaves > 1; leaves /= 2 {
		copy(pair[:], h[:])
		copy(pair[hashSize:], h[:])
		h = sha256.Sum256(pair[:])
	}
	return h
}

// layerRoot is the pieces root above a piece layer: the layer is padded to a power of two with
// roots of all-zero pieces of leavesPerPiece leaves.
func layerRoot(layer [][32]byte, leavesPerPiece int) [32]byte {
	hashes := make([]byte, 0, nextPowerOfTwo(len(layer))*hashSize)
	for _, h := range layer {
		hashes = append(hashes, h[:]...)
	}
	hashes = appendPadding(hashes, nextPowerOfTwo(len(layer)), zeroSubtreeRoot(leavesPerPiece))
	return reduceInPlace(hashes)
}

// nextPowerOfTwo is the smallest power of two >= n (1 for n <= 1).
func nextPowerOfTwo(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}

// pieceHasher computes the v2 root of one piece. It owns a scratch buffer of leaf hashes, so a
// hasher serves one goroutine at a time and allocates nothing once the buffer has grown.
type pieceHasher struct {
	leaves []byte
}

// root hashes data's blocks, pads them with zero leaves to treeLeaves leaves and returns the
// subtree's root.
func (h *pieceHasher) root(data []byte, treeLeaves int) [32]byte {
	if cap(h.leaves) < treeLeaves*hashSize {
		h.leaves = make([]byte, 0, treeLeaves*hashSize)
	}
	leaves := appendBlockHashes(h.leaves[:0], data)
	leaves = appendPadding(leaves, treeLeaves, [32]byte{})
	return reduceInPlace(leaves)
}
