package sim

import (
	"math"
	"slices"
	"time"
)

// Result is what a run measured. Times are virtual, from the start of the run.
type Result struct {
	// Peers are the per-peer figures, in the order of Scenario.Peers.
	Peers []PeerResult
	// Makespan is when the last leecher finished (of those that finished); TStar the lower
	// bound on it (TStar), and MakespanOverTStar their ratio (0 without a bound).
	Makespan, TStar   time.Duration
	MakespanOverTStar float64
	// Completed and Leechers count the leechers that finished and all leechers.
	Completed, Leechers int
	// SeederUploadOverF is what the seeders uploaded in the run, in copies of the file;
	// SeederUploadAtAllPieces (bytes) what they had uploaded when every piece first existed
	// outside them, at AllPiecesAt.
	SeederUploadOverF       float64
	SeederUploadAtAllPieces int64
	AllPiecesAt             time.Duration
	// Bans lists who banned whom, in order.
	Bans []Ban
	// HashFailures counts pieces that failed verification; SuspectPieces those verified
	// with their leaves asked for.
	HashFailures, SuspectPieces int
	// Cancels counts the Cancel messages sent (endgame's duplicate requests answered elsewhere).
	Cancels int64
	// DuplicateRatio is the block payload received beyond one copy per finished leecher, over
	// the file size times the leechers.
	DuplicateRatio float64
	// ProtocolErrors are the errors a core returned for a message (none among honest peers).
	ProtocolErrors []string
	// Progress is the share of the present leechers' pieces verified, every virtual second.
	Progress []Sample
	// Events counts the events applied; End is the virtual time of the last one; TimedOut is
	// set when the deadline stopped the run; Fingerprint hashes the schedule of events.
	Events      int
	End         time.Duration
	TimedOut    bool
	Fingerprint uint64
}

// PeerResult is one peer's figures.
type PeerResult struct {
	Role              Role
	FreeRider         bool
	Joined, Left      time.Duration // Left is 0 for a peer present at the end
	Completed         time.Duration // when its download finished (0 if it did not)
	HalfAt            time.Duration // when it held half the pieces (0 if it never did)
	Pieces            []int         // the pieces it held at each virtual second (from 1 s)
	Done              bool
	Uploaded          int64 // payload bytes sent
	Downloaded        int64 // payload bytes received (duplicates included)
	FromSeeders       int64 // of which from the seeders
	HashFailures      int
	WrongPieces       int // pieces that verified but differ from the content: always 0
	Cancels           int64
	PiecesAtEnd       int
	PeakConns         int // the most connections it had at once
	BannedBy, Banning int // how many peers banned it, and how many it banned
}

// Ban is one peer (By) banning another (Peer) for Reason (core.BanReason's name, then the
// proof the core logged).
type Ban struct {
	At     time.Duration
	By     int
	Peer   int
	Reason string
}

// Sample is the swarm's progress at a virtual instant.
type Sample struct {
	At       time.Duration
	Fraction float64 // of the present leechers' pieces, verified
	Finished int     // leechers finished
}

// result assembles the run's Result.
func (s *Sim) result() Result {
	r := s.res
	r.End, r.Fingerprint = s.now, s.trace
	f := float64(s.sc.FileSize)
	var seeded, received int64
	for i, n := range s.nodes {
		p := &r.Peers[i]
		p.Role, p.FreeRider, p.Joined, p.Left = n.spec.Role, n.spec.FreeRider, n.joined, n.left
		p.Completed, p.Done, p.Uploaded, p.Downloaded = n.completed, n.done, n.uploaded, n.downloaded
		p.WrongPieces, p.Cancels = n.wrongPieces, n.cancels
		if n.core != nil {
			p.PiecesAtEnd = n.core.HaveCount()
		}
		p.PeakConns, p.HalfAt, p.Pieces, p.FromSeeders = n.peakConns, n.halfAt, n.pieces, n.fromSeeders
		r.Cancels += n.cancels
		if n.spec.Role == Seeder {
			seeded += n.uploaded
			continue
		}
		r.Leechers++
		if n.done {
			r.Completed++
			r.Makespan = max(r.Makespan, n.completed)
			received += n.downloaded
		}
	}
	for _, b := range r.Bans {
		r.Peers[b.By].Banning++
		if b.Peer >= 0 {
			r.Peers[b.Peer].BannedBy++
		}
	}
	r.SeederUploadOverF = float64(seeded) / f
	if r.Completed > 0 {
		r.DuplicateRatio = float64(received)/(f*float64(r.Completed)) - 1
	}
	r.TStar = TStar(s.sc)
	if r.TStar > 0 && r.Completed == r.Leechers {
		r.MakespanOverTStar = r.Makespan.Seconds() / r.TStar.Seconds()
	}
	return r
}

// TStar is the lab's lower bound on the makespan (bench/metrics.go's tStar and fluidBound,
// docs/benchmarks.md), computed the same way for a Scenario: with N leechers, M pieces, a file
// of F bytes and every upload capped at u, (F/u)(1 + floor(log2 N)/M); with unequal caps the
// fluid bound max(F/u_s, N F/(u_s + sum u_i)) times the same piece factor, where u_s sums the
// seeders' caps and free-riders add nothing; a swarm whose leechers download from seeds only
// (client-server) N F/u_s. A peer without a cap means no bound (0). Download caps and churn
// are not accounted for.
func TStar(sc Scenario) time.Duration {
	var seeders, leechers []PeerSpec
	for _, p := range sc.Peers {
		if p.Upload <= 0 {
			return 0
		}
		if p.Role == Seeder {
			seeders = append(seeders, p)
		} else {
			leechers = append(leechers, p)
		}
	}
	if len(seeders) == 0 || len(leechers) == 0 || sc.PieceSize <= 0 {
		return 0
	}
	f, n := float64(sc.FileSize), float64(len(leechers))
	m := math.Ceil(f / float64(sc.PieceSize))
	us, sum := 0.0, 0.0
	for _, p := range seeders {
		us += float64(p.Upload)
	}
	sum = us
	u := float64(leechers[0].Upload)
	clientServer, equal := true, len(seeders) == 1 && us == u
	for _, p := range leechers {
		clientServer = clientServer && p.SeedsOnly
		equal = equal && !p.FreeRider && float64(p.Upload) == u
		if !p.FreeRider {
			sum += float64(p.Upload)
		}
	}
	seconds := 0.0
	switch {
	case clientServer:
		seconds = n * f / us
	case equal:
		seconds = f / u * (1 + math.Floor(math.Log2(n))/m)
	default:
		seconds = max(f/us, n*f/sum) * (1 + math.Floor(math.Log2(n))/m)
	}
	return time.Duration(seconds * float64(time.Second))
}

// ShareAt is the share of the file peer p held at virtual time at (by the last whole second).
func (p PeerResult) ShareAt(at time.Duration, numPieces int) float64 {
	i := int(at/time.Second) - 1
	switch {
	case p.Done && at >= p.Completed:
		return 1
	case i < 0 || len(p.Pieces) == 0:
		return 0
	}
	return float64(p.Pieces[min(i, len(p.Pieces)-1)]) / float64(numPieces)
}

// Median is the median of ds (0 for none).
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
