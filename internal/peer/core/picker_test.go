package core

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/minibit-io/minibit/internal/wire"
)

const testPieceLen = 4 * wire.BlockSize // 4 blocks a piece keeps the tables short

// pickerFixture builds a picker over numPieces pieces of testPieceLen bytes, seeded for repeatability.
func pickerFixture(numPieces int, seed uint64) *Picker {
	return NewPicker(numPieces, func(int) int { return testPieceLen }, rand.New(rand.NewPCG(seed, 7)))
}

// bitfieldOf returns a bitfield of n pieces with the given pieces set.
func bitfieldOf(n int, pieces ...int) wire.Bitfield {
	bf := wire.NewBitfield(n)
	for _, i := range pieces {
		bf.Set(i)
	}
	return bf
}

// bitfieldAll returns a bitfield of n pieces, all set.
func bitfieldAll(n int) wire.Bitfield {
	bf := wire.NewBitfield(n)
	for i := range n {
		bf.Set(i)
	}
	return bf
}

// setAvailability makes piece i held by avail[i] peers.
func setAvailability(p *Picker, avail []int) {
	for i, n := range avail {
		for range n {
			p.PeerHas(i)
		}
	}
}

// receiveAll delivers every block of piece from peer (requesting them first).
func receiveAll(t *testing.T, p *Picker, peer ConnKey, piece int) {
	t.Helper()
	sp := p.started[piece]
	if sp == nil {
		sp = p.start(piece)
	}
	for j := range sp.blocks {
		b := p.blockAt(piece, j)
		if ok, _, _ := p.Received(peer, Identity{}, b); !ok {
			t.Fatalf("block %+v from %d not accepted", b, peer)
		}
	}
}

// checkPickerInvariants verifies the picker's bookkeeping against a recount from scratch.
func checkPickerInvariants(t *testing.T, p *Picker) {
	t.Helper()
	o := &p.order
	for k := range o.buckets() {
		for _, piece := range o.bucket(k) {
			if int(p.avail[piece]) != k || p.state[piece] == statusHave {
				t.Fatalf("piece %d in bucket %d: availability %d, state %d", piece, k, p.avail[piece], p.state[piece])
			}
		}
	}
	if live := len(o.live()); live != p.numPieces-p.haveCount {
		t.Fatalf("%d pieces in the order, want %d", live, p.numPieces-p.haveCount)
	}
	for i, piece := range o.pieces {
		if int(o.pos[piece]) != i {
			t.Fatalf("pos[%d] = %d, want %d", piece, o.pos[piece], i)
		}
	}
	unrequested, outstanding, complete := 0, map[ConnKey]int{}, 0
	for piece := range p.numPieces {
		sp := p.started[piece]
		if p.missing.Has(piece) != (p.state[piece] == statusMissing) || (sp != nil) != (p.state[piece] == statusPartial || p.state[piece] == statusComplete) {
			t.Fatalf("piece %d: state %d, in the missing set %v, started %v", piece, p.state[piece], p.missing.Has(piece), sp != nil)
		}
		if p.state[piece] == statusComplete {
			complete++
		}
		switch {
		case p.state[piece] == statusMissing:
			unrequested += p.numBlocks(piece)
		case sp != nil:
			for _, b := range sp.blocks {
				if !b.received && b.nHolders == 0 {
					unrequested++
				}
				for _, h := range b.holders[:b.nHolders] {
					outstanding[h.key]++
				}
			}
		}
	}
	if complete != p.completeCount || len(p.active) != countStarted(p) {
		t.Fatalf("completeCount %d (recount %d), %d active pieces (recount %d)", p.completeCount, complete, len(p.active), countStarted(p))
	}
	if unrequested != p.unrequested {
		t.Fatalf("unrequested = %d, recount %d", p.unrequested, unrequested)
	}
	for peer, n := range p.outstanding {
		if n != outstanding[peer] {
			t.Fatalf("Outstanding(%d) = %d, recount %d", peer, n, outstanding[peer])
		}
	}
}

func TestPickRarestFirst(t *testing.T) {
	tests := []struct {
		name    string
		avail   []int // availability per piece
		have    []int // pieces already verified
		peerHas []int // the pieces the peer we pick for holds; nil: all
		want    int   // the piece Pick must start
	}{
		{name: "lowest availability", avail: []int{5, 3, 1, 4, 2}, have: []int{4}, want: 2},
		{name: "skips a piece we have", avail: []int{5, 3, 1, 4, 2}, have: []int{2}, want: 4},
		{name: "skips a piece the peer lacks", avail: []int{5, 3, 1, 4, 2}, have: []int{0}, peerHas: []int{0, 1, 3}, want: 1},
		{name: "rare piece at the end", avail: []int{2, 2, 2, 2, 2, 2, 2, 1}, have: []int{0}, want: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(tt.avail)
			p := pickerFixture(n, 1)
			setAvailability(p, tt.avail)
			for _, piece := range tt.have {
				p.MarkHave(piece)
			}
			peerHas := bitfieldAll(n)
			if tt.peerHas != nil {
				peerHas = bitfieldOf(n, tt.peerHas...)
			}
			got := p.Pick(1, peerHas, 1, nil)
			if len(got) != 1 || got[0] != (Block{Piece: tt.want, Begin: 0, Length: wire.BlockSize}) {
				t.Fatalf("Pick = %+v, want the first block of piece %d", got, tt.want)
			}
			checkPickerInvariants(t, p)
		})
	}
}

func TestPickBreaksTiesAtRandom(t *testing.T) {
	const n, ties, trials = 40, 8, 1600
	p := pickerFixture(n, 2)
	avail := make([]int, n)
	for i := range avail {
		avail[i] = 3
	}
	tied := []int{0, 1, 2, 17, 18, 30, 38, 39} // spread over low and high indices
	for _, i := range tied {
		avail[i] = 1
	}
	setAvailability(p, avail)
	p.MarkHave(5) // past the random first piece
	counts := map[int]int{}
	for range trials {
		b := p.Pick(1, bitfieldAll(n), 1, nil)
		counts[b[0].Piece]++
		p.Release(1, b[0]) // the piece becomes missing again: the next pick is a fresh draw
	}
	for _, i := range tied {
		// Expected trials/ties = 200 each; 120 is more than 5 standard deviations below.
		if counts[i] < 120 {
			t.Errorf("piece %d picked %d times of %d, want about %d: %v", i, counts[i], trials, trials/ties, counts)
		}
	}
	if len(counts) != ties {
		t.Errorf("picked pieces %v, want only the %d rarest", counts, ties)
	}
	checkPickerInvariants(t, p)
}

func TestPickPartialPieces(t *testing.T) {
	blk := func(piece, j int) Block {
		return Block{Piece: piece, Begin: j * wire.BlockSize, Length: wire.BlockSize}
	}
	tests := []struct {
		name  string
		avail []int // piece 0 is had; pieces 2 (3 of 4 blocks in) and 3 (1 of 4) are partial
		peers int   // peers with requests outstanding: more than 2 started pieces per 3 peers is too many
		want  []Block
	}{
		{
			name:  "partial before new of the same availability, fullest first",
			avail: []int{5, 5, 5, 5, 5, 5}, peers: 4,
			want: []Block{blk(2, 3), blk(3, 1), blk(3, 2), blk(3, 3)},
		},
		{
			name:  "a rarer new piece before partial ones",
			avail: []int{5, 5, 5, 5, 5, 1}, peers: 4,
			want: []Block{blk(5, 0), blk(5, 1), blk(5, 2), blk(5, 3), blk(2, 3), blk(3, 1)},
		},
		{
			name:  "rarer partial before less rare partial",
			avail: []int{5, 5, 5, 2, 5, 5}, peers: 4,
			want: []Block{blk(3, 1), blk(3, 2), blk(3, 3), blk(2, 3)},
		},
		{
			name:  "too many started pieces: partial first whatever the availability",
			avail: []int{5, 5, 5, 5, 5, 1}, peers: 1,
			want: []Block{blk(2, 3), blk(3, 1), blk(3, 2), blk(3, 3), blk(5, 0), blk(5, 1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(tt.avail)
			p := pickerFixture(n, 3)
			setAvailability(p, tt.avail)
			p.MarkHave(0)
			for _, piece := range []int{2, 3} {
				sp := p.start(piece)
				for j := range []int{2: 3, 3: 1}[piece] {
					p.Received(9, Identity{}, p.blockAt(sp.piece, j))
				}
			}
			for i := range tt.peers {
				p.outstanding[ConnKey(100+i)] = 0
			}
			if got := p.Pick(1, bitfieldAll(n), len(tt.want), nil); !slices.Equal(got, tt.want) {
				t.Fatalf("Pick = %v\nwant   %v", got, tt.want)
			}
			checkPickerInvariants(t, p)
		})
	}
}

func TestPickSkipsPartialPiecesThePeerLacks(t *testing.T) {
	const n = 4
	p := pickerFixture(n, 3)
	setAvailability(p, []int{2, 2, 2, 2})
	p.MarkHave(0)
	first := p.Pick(1, bitfieldAll(n), 2, nil) // starts a piece, 2 of its 4 blocks
	lacking := bitfieldAll(n)
	lacking.Clear(first[0].Piece)
	for _, b := range p.Pick(2, lacking, 8, nil) {
		if b.Piece == first[0].Piece {
			t.Fatalf("Pick for a peer without piece %d returned %+v", b.Piece, b)
		}
	}
}

func TestMaxStartedBoundsStartedPieces(t *testing.T) {
	const n = 20
	p := pickerFixture(n, 3)
	p.PeerHasAll(bitfieldAll(n))
	p.MarkHave(0)
	p.SetMaxStarted(3)
	got := p.Pick(1, bitfieldAll(n), 40, nil)
	if len(got) != 12 || len(p.active) != 3 {
		t.Fatalf("Pick = %d blocks over %d pieces, want 12 over 3 (the bound)", len(got), len(p.active))
	}
	p.Received(1, Identity{}, got[0])
	if more := p.Pick(2, bitfieldAll(n), 40, nil); len(more) != 0 {
		t.Fatalf("Pick at the bound = %+v, want nothing", more)
	}
	for _, b := range got[1:4] {
		p.Received(1, Identity{}, b)
	}
	p.MarkHave(got[0].Piece)
	if more := p.Pick(2, bitfieldAll(n), 40, nil); len(more) != 4 {
		t.Fatalf("Pick after a piece was verified = %d blocks, want one new piece (4)", len(more))
	}
	checkPickerInvariants(t, p)
}

func TestPickRandomFirstPiece(t *testing.T) {
	const n, trials = 16, 400
	avail := make([]int, n)
	for i := range avail {
		avail[i] = i + 1 // piece 0 is the rarest, by far
	}
	counts := map[int]int{}
	for seed := range uint64(trials) {
		p := pickerFixture(n, seed)
		setAvailability(p, avail)
		got := p.Pick(1, bitfieldAll(n), 1, nil)
		counts[got[0].Piece]++
	}
	// Rarest first would always pick piece 0; a random first piece picks each about trials/n = 25.
	if counts[0] > 60 || len(counts) < n-2 {
		t.Fatalf("first pieces %v: want them spread over the %d pieces", counts, n)
	}

	// Once one piece is complete (even before verification), rarest first takes over.
	p := pickerFixture(n, 1)
	setAvailability(p, avail)
	receiveAll(t, p, 9, 7)
	if got := p.Pick(1, bitfieldAll(n), 1, nil); got[0].Piece != 0 {
		t.Fatalf("after the first piece Pick = %+v, want piece 0 (the rarest)", got)
	}
}

func TestPickNeverLackedHadOrRequestedTwice(t *testing.T) {
	const n, peers = 64, 6
	rng := rand.New(rand.NewPCG(4, 4))
	p := pickerFixture(n, 4)
	bitfields := make([]wire.Bitfield, peers)
	for i := range bitfields {
		bitfields[i] = wire.NewBitfield(n)
		for piece := range n {
			if rng.IntN(3) == 0 {
				bitfields[i].Set(piece)
			}
		}
		p.PeerHasAll(bitfields[i])
	}
	for piece := range n {
		if rng.IntN(4) == 0 {
			p.MarkHave(piece)
		}
	}
	requested := map[ConnKey]map[Block]bool{}
	for round := range 200 {
		peer := ConnKey(round % peers)
		for _, b := range p.Pick(peer, bitfields[peer], 1+rng.IntN(6), nil) {
			switch {
			case !bitfields[peer].Has(b.Piece):
				t.Fatalf("peer %d lacks piece %d of %+v", peer, b.Piece, b)
			case p.Have(b.Piece):
				t.Fatalf("%+v is of a piece we have", b)
			case requested[peer][b]:
				t.Fatalf("%+v requested twice from peer %d", b, peer)
			}
			if requested[peer] == nil {
				requested[peer] = map[Block]bool{}
			}
			requested[peer][b] = true
		}
		checkPickerInvariants(t, p)
	}
}

func TestPickerBookkeepingUnderRandomOperations(t *testing.T) {
	const n, peers = 40, 5
	rng := rand.New(rand.NewPCG(10, 10))
	p := pickerFixture(n, 10)
	bitfields := make([]wire.Bitfield, peers)
	connected := make([]bool, peers)
	var sent []struct {
		peer ConnKey
		b    Block
	}
	for step := range 4000 {
		peer := ConnKey(rng.IntN(peers))
		switch op := rng.IntN(10); {
		case !connected[peer]: // connect with a random bitfield
			bitfields[peer] = wire.NewBitfield(n)
			for piece := range n {
				if rng.IntN(2) == 0 {
					bitfields[peer].Set(piece)
				}
			}
			p.PeerHasAll(bitfields[peer])
			connected[peer] = true
		case op == 0: // disconnect
			p.PeerLost(bitfields[peer])
			p.PeerGone(peer)
			connected[peer] = false
		case op < 5:
			for _, b := range p.Pick(peer, bitfields[peer], 1+rng.IntN(4), nil) {
				sent = append(sent, struct {
					peer ConnKey
					b    Block
				}{peer, b})
			}
		case len(sent) > 0: // answer, release or fail one request
			i := rng.IntN(len(sent))
			r := sent[i]
			sent = slices.Delete(sent, i, i+1)
			if op == 5 {
				p.Release(r.peer, r.b)
				break
			}
			if _, complete, _ := p.Received(r.peer, Identity{}, r.b); complete {
				if op == 6 {
					p.PieceFailed(r.b.Piece)
				} else {
					p.MarkHave(r.b.Piece)
				}
			}
		}
		if step%50 == 0 {
			checkPickerInvariants(t, p)
		}
	}
	checkPickerInvariants(t, p)
	if p.HaveCount() == 0 {
		t.Fatal("no piece completed in 4000 random operations")
	}
}

func TestEndgameDuplicatesAndCancels(t *testing.T) {
	const n = 2
	p := pickerFixture(n, 5)
	all := bitfieldAll(n)
	p.PeerHasAll(all)
	p.PeerHasAll(all)
	p.PeerHasAll(all)
	p.MarkHave(0)
	const a, b, c = ConnKey(1), ConnKey(2), ConnKey(3)
	if got := p.Pick(a, all, 3, nil); len(got) != 3 || p.InEndgame() {
		t.Fatalf("Pick(a) = %+v, InEndgame %v: want 3 blocks and no endgame yet", got, p.InEndgame())
	}
	if got := p.Pick(a, all, 3, nil); len(got) != 1 || !p.InEndgame() {
		t.Fatalf("Pick(a) = %+v, InEndgame %v: want the last block, then endgame", got, p.InEndgame())
	}
	if got := p.Pick(a, all, 10, nil); len(got) != 0 {
		t.Fatalf("Pick(a) again = %+v, want nothing: every block is already requested from a", got)
	}
	dup := p.Pick(b, all, 10, nil)
	if len(dup) != 4 {
		t.Fatalf("Pick(b) in endgame = %+v, want the 4 blocks outstanding at a", dup)
	}
	if got := p.Pick(c, all, 10, nil); len(got) != 0 {
		t.Fatalf("Pick(c) = %+v, want nothing: %d holders per block at most", got, EndgameHolders)
	}
	accepted, complete, cancelAt := p.Received(b, Identity{}, dup[0])
	if !accepted || complete || !slices.Equal(cancelAt, []ConnKey{a}) {
		t.Fatalf("Received(b) = %v, %v, %v; want accepted, cancel at a", accepted, complete, cancelAt)
	}
	if accepted, _, _ := p.Received(a, Identity{}, dup[0]); accepted {
		t.Fatal("the duplicate from a was accepted")
	}
	if p.Outstanding(a) != 3 || p.Outstanding(b) != 3 {
		t.Fatalf("Outstanding a=%d b=%d, want 3 and 3", p.Outstanding(a), p.Outstanding(b))
	}
	for _, blk := range dup[1:] {
		p.Received(a, Identity{}, blk)
	}
	if !p.InEndgame() || p.Outstanding(a) != 0 || p.Outstanding(b) != 0 {
		t.Fatalf("after all blocks: InEndgame %v, Outstanding a=%d b=%d", p.InEndgame(), p.Outstanding(a), p.Outstanding(b))
	}
	p.MarkHave(1)
	if !p.Complete() || p.InEndgame() {
		t.Fatal("not complete after the last piece")
	}
	checkPickerInvariants(t, p)
}

func TestReleaseAndPeerGoneReturnBlocks(t *testing.T) {
	const n = 3
	p := pickerFixture(n, 6)
	all := bitfieldAll(n)
	p.PeerHasAll(all)
	p.MarkHave(0)
	const a, b = ConnKey(1), ConnKey(2)
	got := p.Pick(a, all, 6, nil)
	if len(got) != 6 || p.Outstanding(a) != 6 {
		t.Fatalf("Pick(a) = %d blocks, Outstanding %d; want 6", len(got), p.Outstanding(a))
	}
	p.Received(a, Identity{}, got[0])
	p.Release(a, got[1])
	if p.Outstanding(a) != 4 {
		t.Fatalf("Outstanding(a) = %d after one received and one released, want 4", p.Outstanding(a))
	}
	if again := p.Pick(b, all, 1, nil); !slices.Equal(again, got[1:2]) {
		t.Fatalf("Pick(b) = %+v, want the released %+v", again, got[1])
	}
	p.PeerGone(a)
	if p.Outstanding(a) != 0 {
		t.Fatalf("Outstanding(a) = %d after PeerGone", p.Outstanding(a))
	}
	rest := p.Pick(b, all, 10, nil)
	if len(rest) != 6 || !p.InEndgame() {
		t.Fatalf("Pick(b) after PeerGone(a) = %d blocks (endgame %v), want the 6 missing ones", len(rest), p.InEndgame())
	}
	// A piece with nothing received and nothing requested is missing again, not partial.
	p.PeerGone(b)
	for piece := 1; piece < n; piece++ {
		if st := p.state[piece]; (piece == got[0].Piece) != (st == statusPartial) {
			t.Errorf("piece %d state %d after PeerGone", piece, st)
		}
	}
	checkPickerInvariants(t, p)
}

func TestPieceFailedReturnsSendersAndResets(t *testing.T) {
	const n = 2
	p := pickerFixture(n, 7)
	all := bitfieldAll(n)
	p.PeerHasAll(all)
	p.MarkHave(1)
	const a, b = ConnKey(1), ConnKey(2)
	blocks := p.Pick(a, all, 2, nil)
	blocks = append(blocks, p.Pick(b, all, 2, nil)...)
	var complete bool
	for i, blk := range blocks {
		_, complete, _ = p.Received([]ConnKey{a, a, b, b}[i], Identity{}, blk)
	}
	if !complete {
		t.Fatal("piece not complete after its 4 blocks")
	}
	if got := p.PieceSenders(0); !sameKeys(got, []ConnKey{a, b}) {
		t.Fatalf("PieceSenders = %v, want a and b", got)
	}
	if got := p.PieceFailed(0); !sameKeys(got, []ConnKey{a, b}) {
		t.Fatalf("PieceFailed = %v, want a and b", got)
	}
	if p.Have(0) || p.PieceSenders(0) != nil || p.InEndgame() {
		t.Fatal("a failed piece is still had, sent or requested")
	}
	if again := p.Pick(b, all, 10, nil); !slices.Equal(again, blocks) {
		t.Fatalf("Pick after the failure = %+v, want every block again %+v", again, blocks)
	}
	checkPickerInvariants(t, p)
}

// countStarted counts the pieces with block state.
func countStarted(p *Picker) (n int) {
	for _, sp := range p.started {
		if sp != nil {
			n++
		}
	}
	return n
}

// sameKeys reports whether a and b hold the same keys in any order.
func sameKeys(a, b []ConnKey) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestShortLastBlockAndBadBlocks(t *testing.T) {
	const lastLen = 2*wire.BlockSize + 7232 // not a multiple of 16 KiB
	p := NewPicker(2, func(piece int) int { return []int{testPieceLen, lastLen}[piece] }, rand.New(rand.NewPCG(8, 8)))
	p.PeerHasAll(bitfieldAll(2))
	p.MarkHave(0)
	got := p.Pick(1, bitfieldAll(2), 10, nil)
	want := []Block{
		{Piece: 1, Begin: 0, Length: wire.BlockSize},
		{Piece: 1, Begin: wire.BlockSize, Length: wire.BlockSize},
		{Piece: 1, Begin: 2 * wire.BlockSize, Length: 7232},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Pick = %+v\nwant %+v", got, want)
	}
	for _, bad := range []Block{
		{Piece: 1, Begin: 2 * wire.BlockSize, Length: wire.BlockSize}, // the short block claimed long
		{Piece: 1, Begin: 100, Length: wire.BlockSize},                // unaligned
		{Piece: 1, Begin: -wire.BlockSize, Length: wire.BlockSize},    // negative
		{Piece: 1, Begin: 3 * wire.BlockSize, Length: wire.BlockSize}, // past the end
		{Piece: 0, Begin: 0, Length: wire.BlockSize},                  // a piece we have
		{Piece: 2, Begin: 0, Length: wire.BlockSize},                  // no such piece
		{Piece: -1, Begin: 0, Length: wire.BlockSize},
	} {
		if accepted, _, _ := p.Received(1, Identity{}, bad); accepted {
			t.Errorf("Received(%+v) accepted", bad)
		}
		p.Release(1, bad) // must not panic nor change anything
	}
	for _, b := range got[:2] {
		p.Received(1, Identity{}, b)
	}
	if _, complete, _ := p.Received(1, Identity{}, got[2]); !complete {
		t.Fatal("the piece with a short last block did not complete")
	}
	checkPickerInvariants(t, p)
}

func TestAvailabilityBookkeeping(t *testing.T) {
	const n = 10
	p := pickerFixture(n, 9)
	x, y := bitfieldOf(n, 0, 1, 2), bitfieldOf(n, 2, 3)
	p.PeerHasAll(x)
	p.PeerHasAll(y)
	p.PeerHas(9)
	p.MarkHave(2)
	if got := []int{p.Availability(0), p.Availability(2), p.Availability(9), p.Availability(5), p.Availability(-1), p.Availability(n)}; !slices.Equal(got, []int{1, 2, 1, 0, 0, 0}) {
		t.Fatalf("availability = %v", got)
	}
	if p.MinAvailability() != 0 {
		t.Fatalf("MinAvailability = %d, want 0 (piece 5 is held by nobody)", p.MinAvailability())
	}
	p.PeerLost(x)
	if p.Availability(0) != 0 || p.Availability(2) != 1 {
		t.Fatalf("after PeerLost: piece 0 %d, piece 2 %d", p.Availability(0), p.Availability(2))
	}
	p.PeerLost(x) // a peer lost twice (a session bug): never below zero
	if p.Availability(0) != 0 || p.Availability(2) != 0 {
		t.Fatalf("after PeerLost twice: piece 0 %d, piece 2 %d", p.Availability(0), p.Availability(2))
	}
	p.PeerHas(-3)
	p.PeerHasAll(bitfieldAll(n + 5)) // a longer bitfield: the extra bits are ignored
	checkPickerInvariants(t, p)
	for i := range n {
		p.MarkHave(i)
	}
	if !p.Complete() || p.MinAvailability() != -1 || p.Pick(1, bitfieldAll(n), 4, nil) != nil {
		t.Fatal("a complete picker still picks or reports a missing piece")
	}
	checkPickerInvariants(t, p)
}

func TestPickerEmptyTorrent(t *testing.T) {
	p := pickerFixture(0, 1)
	if !p.Complete() || p.InEndgame() || p.PieceFailed(0) != nil || p.Pick(1, nil, 4, nil) != nil {
		t.Fatal("an empty torrent is not complete")
	}
}

// simPeer is one peer of a swarm simulated without sockets: it trades only through Pick and
// Received, and each round serves a bounded number of the requests queued at it.
type simPeer struct {
	key     ConnKey
	picker  *Picker
	has     wire.Bitfield
	queue   []simRequest // requests other peers sent it, served first come first served
	present bool
}

// simRequest is a block requested from a simPeer by the peer `from`.
type simRequest struct {
	from *simPeer
	b    Block
}

// swarmSim is 1 seeder (peers[0]) and leechers, all connected to each other.
type swarmSim struct {
	numPieces    int
	peers        []*simPeer
	rng          *rand.Rand
	depth        int // requests outstanding per connection
	upload       int // blocks each leecher serves per round
	seederUpload int // blocks the seeder serves per round
	seederBudget int // the seeder leaves after serving this many blocks (0: it stays)
	seederServed int
	seederLeft   bool
	extinct      bool // a piece no leecher holds, after the seeder left
	minAvail     int  // the lowest MinAvailability an unfinished leecher saw after the seeder left
}

func newSwarmSim(numPieces, leechers int, seed uint64, randomPicker bool) *swarmSim {
	s := &swarmSim{numPieces: numPieces, rng: rand.New(rand.NewPCG(seed, 99)), depth: 2, upload: 1, seederUpload: 4, minAvail: 1 << 30}
	for i := range leechers + 1 {
		p := NewPicker(numPieces, func(int) int { return simPieceLen }, rand.New(rand.NewPCG(seed, uint64(i))))
		p.randomOnly = randomPicker
		s.peers = append(s.peers, &simPeer{key: ConnKey(i), picker: p, has: wire.NewBitfield(numPieces), present: true})
	}
	seeder := s.peers[0]
	for piece := range numPieces {
		seeder.picker.MarkHave(piece)
		seeder.has.Set(piece)
	}
	for _, l := range s.peers[1:] {
		l.picker.PeerHasAll(seeder.has)
	}
	return s
}

// run plays rounds until nothing moves any more (every leecher complete, or stuck); it returns
// how many leechers completed.
func (s *swarmSim) run(t *testing.T, maxRounds int) (completed int) {
	t.Helper()
	for range maxRounds {
		if s.round() == 0 {
			break
		}
	}
	for _, l := range s.peers[1:] {
		checkPickerInvariants(t, l.picker)
		if l.picker.Complete() {
			completed++
		}
	}
	return completed
}

// round lets every peer request, then every peer serve; it returns the blocks delivered.
func (s *swarmSim) round() (delivered int) {
	order := s.rng.Perm(len(s.peers))
	var buf [8]Block
	for _, i := range order {
		d := s.peers[i]
		for _, u := range s.peers {
			if u == d || !u.present || d.picker.Complete() {
				continue
			}
			for _, b := range d.picker.Pick(u.key, u.has, s.depth-d.picker.Outstanding(u.key), buf[:0]) {
				u.queue = append(u.queue, simRequest{from: d, b: b})
			}
		}
	}
	for _, i := range order {
		u := s.peers[i]
		capacity := s.upload
		if u == s.peers[0] {
			capacity = s.seederUpload
		}
		for served := 0; served < capacity && len(u.queue) > 0 && u.present; served++ {
			r := u.queue[0]
			u.queue = u.queue[1:]
			accepted, complete, cancelAt := r.from.picker.Received(u.key, Identity{}, r.b)
			if accepted {
				delivered++
			}
			for _, c := range cancelAt {
				s.peers[c].queue = slices.DeleteFunc(s.peers[c].queue, func(q simRequest) bool { return q == r })
			}
			if complete {
				s.pieceVerified(r.from, r.b.Piece)
			}
			if u == s.peers[0] {
				s.seederServed++
			}
		}
	}
	s.afterRound()
	return delivered
}

// pieceVerified marks piece had at d and announces it to every other present peer.
func (s *swarmSim) pieceVerified(d *simPeer, piece int) {
	d.picker.MarkHave(piece)
	d.has.Set(piece)
	for _, x := range s.peers {
		if x != d && x.present {
			x.picker.PeerHas(piece)
		}
	}
}

// afterRound makes the seeder leave once it has served its budget, and records afterwards
// whether some piece is extinct (held by no leecher) and the leechers' minimum availability.
func (s *swarmSim) afterRound() {
	seeder := s.peers[0]
	if s.seederBudget > 0 && !s.seederLeft && s.seederServed >= s.seederBudget {
		seeder.present, seeder.queue, s.seederLeft = false, nil, true
		for _, l := range s.peers[1:] {
			l.picker.PeerLost(seeder.has)
			l.picker.PeerGone(seeder.key)
		}
	}
	if !s.seederLeft {
		return
	}
	for piece := range s.numPieces {
		if !slices.ContainsFunc(s.peers[1:], func(l *simPeer) bool { return l.has.Has(piece) }) {
			s.extinct = true
		}
	}
	for _, l := range s.peers[1:] {
		if !l.picker.Complete() {
			s.minAvail = min(s.minAvail, l.picker.MinAvailability())
		}
	}
}

func TestSwarmSimulationCompletes(t *testing.T) {
	const pieces, leechers = 48, 10
	for _, random := range []bool{false, true} {
		s := newSwarmSim(pieces, leechers, 1, random)
		if got := s.run(t, 5000); got != leechers {
			t.Fatalf("random picker %v: %d of %d leechers completed", random, got, leechers)
		}
	}
}

// TestRarestFirstKeepsEveryPieceAlive tests the design note's claim for rarest first. The seeder
// (a server: 4 times a leecher's upload) leaves after uploading two copies' worth of blocks. With
// rarest first, leechers ask it for the pieces only it holds, so every piece exists among them by
// then: the minimum availability never drops to 0 and every leecher completes without it. A random
// picker asks the seeder for pieces other leechers already hold (a coupon collector: a full copy
// takes about ln(pieces) copies' worth), so pieces go extinct and leechers are stuck.
func TestRarestFirstKeepsEveryPieceAlive(t *testing.T) {
	const pieces, leechers, runs = 64, 10, 10
	extinct := map[bool]int{}
	for seed := range uint64(runs) {
		for _, random := range []bool{false, true} {
			s := newSwarmSim(pieces, leechers, seed, random)
			s.seederBudget = 2 * pieces * simPieceLen / wire.BlockSize
			completed := s.run(t, 5000)
			if s.extinct {
				extinct[random]++
			}
			t.Logf("seed %d random %v: %d completed, extinct %v, min availability after the seeder left %d", seed, random, completed, s.extinct, s.minAvail)
			if !random && (s.extinct || completed != leechers || s.minAvail < 1) {
				t.Errorf("rarest first, seed %d: extinct %v, %d of %d completed, min availability %d", seed, s.extinct, completed, leechers, s.minAvail)
			}
		}
	}
	t.Logf("runs with an extinct piece: rarest first %d of %d, random %d of %d", extinct[false], runs, extinct[true], runs)
	if extinct[true] < runs*8/10 {
		t.Errorf("the random picker lost a piece in %d of %d runs only: the simulation does not show the difference", extinct[true], runs)
	}
}

// simPieceLen: several blocks per piece, so that partial pieces matter in the simulation.
const simPieceLen = 4 * wire.BlockSize

// BenchmarkPick measures one Pick of 4 blocks plus their Received (and MarkHave when a piece
// completes), the session's work per delivered block, over 16,384 pieces of 256 KiB and 50 peers.
func BenchmarkPick(b *testing.B) {
	const pieces, peers, pieceLen = 16384, 50, 256 << 10
	for _, bench := range []struct {
		name  string
		share int // percent of the pieces each peer holds
	}{{"seeders", 100}, {"half", 50}, {"sparse", 5}} {
		b.Run(bench.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			bitfields := make([]wire.Bitfield, peers)
			for i := range bitfields {
				bitfields[i] = wire.NewBitfield(pieces)
				for piece := range pieces {
					if rng.IntN(100) < bench.share {
						bitfields[i].Set(piece)
					}
				}
			}
			newPicker := func() *Picker {
				p := NewPicker(pieces, func(int) int { return pieceLen }, rand.New(rand.NewPCG(3, 4)))
				for _, bf := range bitfields {
					p.PeerHasAll(bf)
				}
				return p
			}
			p := newPicker()
			dst := make([]Block, 0, 4)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				peer := ConnKey(i % peers)
				dst = p.Pick(peer, bitfields[peer], 4, dst[:0])
				for _, blk := range dst {
					if _, complete, _ := p.Received(peer, Identity{}, blk); complete {
						p.MarkHave(blk.Piece)
					}
				}
				if p.Complete() || (len(dst) == 0 && p.Outstanding(peer) == 0 && i%peers == peers-1 && p.stuck(bitfields)) {
					b.StopTimer()
					p = newPicker()
					b.StartTimer()
				}
			}
		})
	}
}

// stuck reports whether no peer can give p anything more (pieces nobody holds remain).
func (p *Picker) stuck(bitfields []wire.Bitfield) bool {
	for _, bf := range bitfields {
		for piece := range p.numPieces {
			if bf.Has(piece) && !p.Have(piece) {
				return false
			}
		}
	}
	return true
}
