package core

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

// ChokeStrategy names how the Choker ranks the peers competing for the unchoke slots.
type ChokeStrategy string

const (
	// TitForTat serves the peers that give this peer the most (the design note's concept 5, BEP 3):
	// by their DownloadRate while leeching. A seeder has nobody to trade with; it remembers who
	// gave: peers that sent it data (Candidate.Contributed) come before those that never did, so a
	// peer that finished keeps rewarding its trading partners before free-riders. Among equals
	// the UploadRate this peer reaches to them decides (libtorrent's "fastest upload" seed
	// choking; the swarm lab measured round robin slower, docs/benchmarks.md).
	TitForTat ChokeStrategy = "tit-for-tat"
	// Rarity is the design note's adaptation for a single machine, where rates say nothing: serve
	// the peers that hold the most valuable pieces (Candidate.Rarity, see RarityScore). A seeder
	// lacks nothing, so every score is 0 and its slots go at random each round.
	Rarity ChokeStrategy = "rarity"
)

// ParseChokeStrategy parses a --choke-strategy flag value.
func ParseChokeStrategy(s string) (ChokeStrategy, error) {
	switch st := ChokeStrategy(s); st {
	case TitForTat, Rarity:
		return st, nil
	}
	return "", fmt.Errorf("unknown choking strategy %q (want %q or %q)", s, TitForTat, Rarity)
}

// newcomerRounds and newcomerWeight: a peer connected within the last newcomerRounds rounds is
// newcomerWeight times as likely as the others to get an optimistic unchoke (BitTorrent's rule,
// so that a newcomer with nothing to trade soon gets a first piece).
const (
	newcomerRounds = 3
	newcomerWeight = 3
)

// Candidate is what the Choker knows of one connected peer at a round.
type Candidate struct {
	Key          ConnKey
	Interested   bool      // it wants something this peer has; only interested peers take slots
	DownloadRate float64   // bytes/s it sent this peer over the recent window
	UploadRate   float64   // bytes/s this peer sent it over the recent window (used when seeding)
	Contributed  bool      // it ever sent this peer a block it asked for on this connection (used when seeding)
	Rarity       float64   // the value of the pieces it holds and this peer lacks: RarityScore
	ConnectedAt  time.Time // when the connection was established
}

// ChokerConfig holds the choker's knobs; DefaultChokerConfig has the design note's numbers.
type ChokerConfig struct {
	Strategy        ChokeStrategy
	UnchokeSlots    int // peers unchoked for their score (the note: 4)
	OptimisticSlots int // peers unchoked at random, to discover better partners (the note: 1)
	// OptimisticEvery is how many rounds an optimistic unchoke lasts before it is re-picked. The
	// note recomputes everything every round (10 s): 1. BitTorrent's reference client uses 3 (30 s).
	OptimisticEvery int
}

// DefaultChokerConfig returns the design note's choker: tit-for-tat, 4 unchoke slots and 1
// optimistic slot, the optimistic one re-picked every round.
func DefaultChokerConfig() ChokerConfig {
	return ChokerConfig{Strategy: TitForTat, UnchokeSlots: 4, OptimisticSlots: 1, OptimisticEvery: 1}
}

// Validate reports a configuration the Choker cannot honour.
func (c ChokerConfig) Validate() error {
	if _, err := ParseChokeStrategy(string(c.Strategy)); err != nil {
		return err
	}
	if c.UnchokeSlots < 0 || c.OptimisticSlots < 0 {
		return fmt.Errorf("choker slots must not be negative (unchoke %d, optimistic %d)", c.UnchokeSlots, c.OptimisticSlots)
	}
	if c.OptimisticEvery < 1 {
		return fmt.Errorf("choker optimistic period must be at least 1 round, got %d", c.OptimisticEvery)
	}
	return nil
}

// Choker decides, once per round (every 10 s in the design note), which peers this peer uploads
// to: the UnchokeSlots interested peers with the best score, plus OptimisticSlots interested peers
// at random. Every other peer is choked.
//
// A Choker is NOT safe for concurrent use: the session's mutex owns it.
type Choker struct {
	cfg ChokerConfig
	rng *rand.Rand

	optimistic  []ConnKey                 // the current optimistic unchokes
	sincePick   int                       // rounds since the optimistic unchokes were picked
	roundTimes  [newcomerRounds]time.Time // the times of the last rounds, oldest first
	roundsSoFar int                       // rounds run, for roundTimes
}

// NewChoker returns a Choker. Values Validate rejects are replaced by DefaultChokerConfig's.
func NewChoker(cfg ChokerConfig, rng *rand.Rand) *Choker {
	def := DefaultChokerConfig()
	if _, err := ParseChokeStrategy(string(cfg.Strategy)); err != nil {
		cfg.Strategy = def.Strategy
	}
	if cfg.UnchokeSlots < 0 {
		cfg.UnchokeSlots = def.UnchokeSlots
	}
	if cfg.OptimisticSlots < 0 {
		cfg.OptimisticSlots = def.OptimisticSlots
	}
	if cfg.OptimisticEvery < 1 {
		cfg.OptimisticEvery = def.OptimisticEvery
	}
	return &Choker{cfg: cfg, rng: rng}
}

// Round runs one choking round at time now over the connected peers and returns the set of peers
// to unchoke (all true); every other peer is to be choked. seeding selects the seeding score.
func (c *Choker) Round(now time.Time, cands []Candidate, seeding bool) map[ConnKey]bool {
	interested := make([]Candidate, 0, len(cands))
	for _, cand := range cands {
		if cand.Interested {
			interested = append(interested, cand)
		}
	}
	unchoke := make(map[ConnKey]bool, c.cfg.UnchokeSlots+c.cfg.OptimisticSlots)
	for _, cand := range c.best(interested, seeding) {
		unchoke[cand.Key] = true
	}
	for _, key := range c.pickOptimistic(now, interested, unchoke) {
		unchoke[key] = true
	}
	c.recordRound(now)
	return unchoke
}

// score is a candidate's claim to an unchoke slot under the configured strategy.
func (c *Choker) score(cand Candidate, seeding bool) float64 {
	switch {
	case c.cfg.Strategy == Rarity:
		return cand.Rarity
	case seeding:
		return cand.UploadRate
	default:
		return cand.DownloadRate
	}
}

// best returns the UnchokeSlots candidates with the highest scores, ties broken at random; a
// tit-for-tat seeder ranks past contributors first.
func (c *Choker) best(cands []Candidate, seeding bool) []Candidate {
	c.rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	rememberContributors := seeding && c.cfg.Strategy == TitForTat
	slices.SortStableFunc(cands, func(a, b Candidate) int {
		if rememberContributors && a.Contributed != b.Contributed {
			if a.Contributed {
				return -1
			}
			return 1
		}
		return cmp.Compare(c.score(b, seeding), c.score(a, seeding))
	})
	return cands[:min(c.cfg.UnchokeSlots, len(cands))]
}

// pickOptimistic returns the optimistic unchokes: the current ones while their period lasts and
// they are still interested and not unchoked already; re-picked at random otherwise, avoiding the
// previous pick when another peer can take its place (so the slot rotates).
func (c *Choker) pickOptimistic(now time.Time, interested []Candidate, unchoke map[ConnKey]bool) []ConnKey {
	c.sincePick++
	repick := c.sincePick >= c.cfg.OptimisticEvery
	previous := c.optimistic
	var kept []ConnKey
	if !repick {
		for _, key := range previous {
			if !unchoke[key] && slices.ContainsFunc(interested, func(cand Candidate) bool { return cand.Key == key }) {
				kept = append(kept, key)
			}
		}
	}
	var pool []Candidate
	for _, cand := range interested {
		if !unchoke[cand.Key] && !slices.Contains(kept, cand.Key) {
			pool = append(pool, cand)
		}
	}
	if fresh := slices.DeleteFunc(slices.Clone(pool), func(cand Candidate) bool {
		return slices.Contains(previous, cand.Key)
	}); len(fresh) >= c.cfg.OptimisticSlots-len(kept) {
		pool = fresh
	}
	chosen := kept
	for len(chosen) < c.cfg.OptimisticSlots && len(pool) > 0 {
		i := c.weightedPick(now, pool)
		chosen = append(chosen, pool[i].Key)
		pool = slices.Delete(pool, i, i+1)
	}
	if repick || len(chosen) != len(kept) {
		c.sincePick = 0
	}
	c.optimistic = chosen
	return chosen
}

// weightedPick returns the index of a random candidate, newcomers newcomerWeight times as likely.
func (c *Choker) weightedPick(now time.Time, pool []Candidate) int {
	total := 0
	for _, cand := range pool {
		total += c.weight(now, cand)
	}
	r := c.rng.IntN(total)
	for i, cand := range pool {
		if r -= c.weight(now, cand); r < 0 {
			return i
		}
	}
	return len(pool) - 1
}

// weight is a candidate's chance of an optimistic unchoke, relative to an old connection's 1.
// A newcomer connected after the round newcomerRounds rounds ago (before that many rounds have
// run: after the first round) weighs newcomerWeight.
func (c *Choker) weight(now time.Time, cand Candidate) int {
	if c.roundsSoFar == 0 || cand.ConnectedAt.IsZero() {
		return 1
	}
	since := c.roundTimes[0]
	if c.roundsSoFar < newcomerRounds {
		since = c.roundTimes[newcomerRounds-c.roundsSoFar]
	}
	if cand.ConnectedAt.After(since) && !cand.ConnectedAt.After(now) {
		return newcomerWeight
	}
	return 1
}

// recordRound remembers the time of this round for the newcomer window.
func (c *Choker) recordRound(now time.Time) {
	copy(c.roundTimes[:], c.roundTimes[1:])
	c.roundTimes[newcomerRounds-1] = now
	c.roundsSoFar++
}

// RarityScore values a peer by the pieces it holds that this peer lacks, each worth
// 1/availability (a piece only it holds is worth 1, one that ten peers hold 0.1): the design
// note's adaptation of tit-for-tat for a single machine, where rates cannot be measured.
// availability(i) is the number of connected peers holding piece i (Picker.Availability); values
// below 1 count as 1, since this peer holds it.
func RarityScore(peerHas, have wire.Bitfield, availability func(piece int) int) float64 {
	score := 0.0
	for i, b := range peerHas {
		if i < len(have) {
			b &^= have[i]
		}
		if b == 0 {
			continue
		}
		for piece := i * 8; piece < (i+1)*8; piece++ {
			if peerHas.Has(piece) && !have.Has(piece) {
				score += 1 / float64(max(availability(piece), 1))
			}
		}
	}
	return score
}
