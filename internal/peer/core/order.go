package core

import "math/rand/v2"

// pieceOrder keeps the pieces this peer still misses sorted by availability (how many connected
// peers hold each), so that the rarest pieces are found without sorting: the design note's
// "rarest first" as a data structure, after libtorrent's piece picker.
//
// The pieces live in one array cut into buckets: bucket k, pieces[start[k]:start[k+1]], holds the
// pieces of availability k, in no particular order (shuffled at the start, so that nothing favours
// low indices). A change of availability by one moves a piece across one bucket boundary with one
// swap: O(1). Pieces this peer has are moved out, past the last bucket, and never scanned again.
//
// It holds no availability itself: the caller (the Picker) passes the piece's current
// availability to every move. Owned by its Picker (and so by the Picker's owner's mutex).
type pieceOrder struct {
	pieces []int32 // a permutation of the pieces; pieces[live:] are removed (this peer has them)
	pos    []int32 // pos[piece] is the piece's index in pieces
	start  []int32 // bucket boundaries; len(start) == buckets+1 and start[len(start)-1] == live
}

// newPieceOrder puts n pieces, all of availability 0, in a random order.
func newPieceOrder(n int, rng *rand.Rand) pieceOrder {
	o := pieceOrder{
		pieces: make([]int32, n),
		pos:    make([]int32, n),
		start:  []int32{0, int32(n)},
	}
	for i := range o.pieces {
		o.pieces[i] = int32(i)
	}
	rng.Shuffle(n, func(i, j int) { o.pieces[i], o.pieces[j] = o.pieces[j], o.pieces[i] })
	for i, piece := range o.pieces {
		o.pos[piece] = int32(i)
	}
	return o
}

// buckets is the number of availability buckets (some may be empty).
func (o *pieceOrder) buckets() int { return len(o.start) - 1 }

// bucket returns the pieces of availability k.
func (o *pieceOrder) bucket(k int) []int32 { return o.pieces[o.start[k]:o.start[k+1]] }

// live returns the pieces still in the order (those this peer misses), rarest first by bucket.
func (o *pieceOrder) live() []int32 { return o.pieces[:o.start[len(o.start)-1]] }

// minAvailability returns the lowest availability of any piece still in the order, or -1 if none.
func (o *pieceOrder) minAvailability() int {
	for k := range o.buckets() {
		if o.start[k] < o.start[k+1] {
			return k
		}
	}
	return -1
}

// swap exchanges the pieces at indices i and j.
func (o *pieceOrder) swap(i, j int32) {
	a, b := o.pieces[i], o.pieces[j]
	o.pieces[i], o.pieces[j] = b, a
	o.pos[a], o.pos[b] = j, i
}

// increment moves piece from bucket k to bucket k+1: it becomes the first of bucket k+1.
func (o *pieceOrder) increment(piece int32, k int) {
	if k+1 >= o.buckets() {
		o.start = append(o.start, o.start[len(o.start)-1]) // a new, empty, top bucket
	}
	last := o.start[k+1] - 1
	o.swap(o.pos[piece], last)
	o.start[k+1]--
}

// decrement moves piece from bucket k (k > 0) to bucket k-1: it becomes the last of bucket k-1.
func (o *pieceOrder) decrement(piece int32, k int) {
	first := o.start[k]
	o.swap(o.pos[piece], first)
	o.start[k]++
}

// remove takes piece, of availability k, out of the order for good: O(number of buckets).
func (o *pieceOrder) remove(piece int32, k int) {
	top := o.buckets() - 1
	for ; k < top; k++ {
		o.increment(piece, k)
	}
	liveEnd := len(o.start) - 1
	o.swap(o.pos[piece], o.start[liveEnd]-1)
	o.start[liveEnd]--
}
