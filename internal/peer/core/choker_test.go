package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/wire"
)

var chokerEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// chokerFixture returns a choker with cfg, seeded for repeatability.
func chokerFixture(cfg ChokerConfig, seed uint64) *Choker {
	return NewChoker(cfg, rand.New(rand.NewPCG(seed, 11)))
}

// unchokedKeys returns the keys of an unchoke set, sorted.
func unchokedKeys(set map[ConnKey]bool) []ConnKey {
	var keys []ConnKey
	for k, ok := range set {
		if ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// optimisticOf returns the unchoked keys not among the unchoke slots' keys.
func optimisticOf(set map[ConnKey]bool, unchoke []ConnKey) []ConnKey {
	return slices.DeleteFunc(unchokedKeys(set), func(k ConnKey) bool { return slices.Contains(unchoke, k) })
}

func TestChokerUnchokeSlotsGoToTheBestScores(t *testing.T) {
	// Eight interested peers; each strategy ranks them by a different field, the others reversed,
	// so that only the right field can produce the right top 4. Peer 9 is the fastest of all but
	// not interested: it takes no slot.
	cands := make([]Candidate, 0, 9)
	for i := range 8 {
		cands = append(cands, Candidate{
			Key: ConnKey(i), Interested: true, ConnectedAt: chokerEpoch,
			DownloadRate: float64(100 * i), UploadRate: float64(100 * (7 - i)), Rarity: float64(i%2*10 + i),
		})
	}
	cands = append(cands, Candidate{Key: 9, DownloadRate: 1e9, UploadRate: 1e9, Rarity: 1e9})
	tests := []struct {
		name     string
		strategy ChokeStrategy
		seeding  bool
		top      []ConnKey
	}{
		{"tit-for-tat leeching: download rate", TitForTat, false, []ConnKey{4, 5, 6, 7}},
		{"tit-for-tat seeding: upload rate", TitForTat, true, []ConnKey{0, 1, 2, 3}},
		{"rarity", Rarity, false, []ConnKey{1, 3, 5, 7}},
		{"rarity seeding still ranks by rarity", Rarity, true, []ConnKey{1, 3, 5, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultChokerConfig()
			cfg.Strategy = tt.strategy
			c := chokerFixture(cfg, 1)
			for round := range 10 {
				set := c.Round(chokerEpoch.Add(time.Duration(round)*10*time.Second), slices.Clone(cands), tt.seeding)
				got := unchokedKeys(set)
				opt := optimisticOf(set, tt.top)
				if len(got) != 5 || len(opt) != 1 || set[9] {
					t.Fatalf("round %d: unchoked %v, want the top %v plus one optimistic, never 9", round, got, tt.top)
				}
			}
		})
	}
}

// A tit-for-tat seeder gives its unchoke slots to the peers that ever sent it data before the
// faster downloaders that never did (free-riders).
func TestSeedingChokerRemembersContributors(t *testing.T) {
	cands := make([]Candidate, 0, 8)
	for i := range 8 {
		cands = append(cands, Candidate{
			Key: ConnKey(i), Interested: true, ConnectedAt: chokerEpoch,
			UploadRate: float64(100 * i), Contributed: i < 4, // 0-3 gave, 4-7 download faster
		})
	}
	contributors := []ConnKey{0, 1, 2, 3}
	c := chokerFixture(DefaultChokerConfig(), 1)
	for round := range 10 {
		set := c.Round(chokerEpoch.Add(time.Duration(round)*10*time.Second), slices.Clone(cands), true)
		if opt := optimisticOf(set, contributors); len(set) != 5 || len(opt) != 1 {
			t.Fatalf("round %d: unchoked %v, want %v plus one optimistic", round, unchokedKeys(set), contributors)
		}
	}
}

func TestChokerBreaksTiesAtRandom(t *testing.T) {
	cands := make([]Candidate, 6)
	for i := range cands {
		cands[i] = Candidate{Key: ConnKey(i), Interested: true, DownloadRate: 50}
	}
	cfg := DefaultChokerConfig()
	cfg.OptimisticSlots = 0
	c := chokerFixture(cfg, 2)
	counts := map[ConnKey]int{}
	for round := range 600 {
		for _, k := range unchokedKeys(c.Round(chokerEpoch.Add(time.Duration(round)*time.Second), cands, false)) {
			counts[k]++
		}
	}
	for k := range ConnKey(6) { // 4 of 6 slots: expected 400 each
		if counts[k] < 330 || counts[k] > 470 {
			t.Errorf("peer %d unchoked %d times of 600, want about 400: %v", k, counts[k], counts)
		}
	}
}

func TestChokerOptimisticRotates(t *testing.T) {
	cands := make([]Candidate, 8)
	for i := range cands {
		cands[i] = Candidate{Key: ConnKey(i), Interested: true, DownloadRate: float64(1000 * i)}
	}
	top := []ConnKey{4, 5, 6, 7}
	for _, every := range []int{1, 3} {
		cfg := DefaultChokerConfig()
		cfg.OptimisticEvery = every
		c := chokerFixture(cfg, 3)
		var picks []ConnKey
		for round := range 24 {
			opt := optimisticOf(c.Round(chokerEpoch.Add(time.Duration(round)*10*time.Second), cands, false), top)
			if len(opt) != 1 || slices.Contains(top, opt[0]) {
				t.Fatalf("every %d, round %d: optimistic %v, want one peer outside the top 4", every, round, opt)
			}
			picks = append(picks, opt[0])
		}
		for round := 1; round < len(picks); round++ {
			if changed := picks[round] != picks[round-1]; changed != (round%every == 0) {
				t.Fatalf("every %d: optimistic picks %v: want a new one exactly every %d rounds", every, picks, every)
			}
		}
		seen := slices.Compact(slices.Sorted(slices.Values(picks)))
		if !slices.Equal(seen, []ConnKey{0, 1, 2, 3}) {
			t.Errorf("every %d: optimistic picks %v never reached all of 0..3", every, picks)
		}
	}
}

func TestChokerOptimisticFavoursNewcomers(t *testing.T) {
	// One old peer and one newcomer compete for the optimistic slot (the top 4 are faster): the
	// newcomer, connected within the last 3 rounds, should win 3 times in 4.
	const trials = 4000
	newcomerWins := 0
	for trial := range uint64(trials) {
		c := chokerFixture(DefaultChokerConfig(), trial)
		for round := range 3 { // rounds at 0, 10, 20 s with nobody interested
			c.Round(chokerEpoch.Add(time.Duration(round)*10*time.Second), nil, false)
		}
		now := chokerEpoch.Add(30 * time.Second)
		cands := []Candidate{
			{Key: 10, Interested: true, ConnectedAt: chokerEpoch.Add(-time.Hour)},
			{Key: 11, Interested: true, ConnectedAt: now.Add(-5 * time.Second)},
		}
		for k := range ConnKey(4) {
			cands = append(cands, Candidate{Key: k, Interested: true, DownloadRate: 1000, ConnectedAt: chokerEpoch})
		}
		set := c.Round(now, cands, false)
		if set[10] == set[11] {
			t.Fatalf("trial %d: unchoked %v, want exactly one of 10 and 11", trial, unchokedKeys(set))
		}
		if set[11] {
			newcomerWins++
		}
	}
	if share := float64(newcomerWins) / trials; math.Abs(share-0.75) > 0.03 {
		t.Fatalf("the newcomer won %.3f of optimistic slots, want 0.75 (weight 3 against 1)", share)
	}
}

func TestChokerFewerCandidatesThanSlots(t *testing.T) {
	c := chokerFixture(DefaultChokerConfig(), 4)
	if got := c.Round(chokerEpoch, nil, false); len(got) != 0 {
		t.Fatalf("no candidates: unchoked %v", got)
	}
	cands := []Candidate{
		{Key: 1, Interested: true, DownloadRate: 10},
		{Key: 2, Interested: true},
		{Key: 3, Interested: true, DownloadRate: 5},
		{Key: 4, DownloadRate: 1e6}, // not interested
		{Key: 5},
	}
	if got := unchokedKeys(c.Round(chokerEpoch.Add(10*time.Second), cands, false)); !slices.Equal(got, []ConnKey{1, 2, 3}) {
		t.Fatalf("unchoked %v, want every interested peer (1, 2, 3) and only them", got)
	}
	cfg := ChokerConfig{Strategy: TitForTat, UnchokeSlots: 0, OptimisticSlots: 0, OptimisticEvery: 1}
	if got := chokerFixture(cfg, 4).Round(chokerEpoch, cands, false); len(got) != 0 {
		t.Fatalf("no slots: unchoked %v", got)
	}
}

func TestChokerFreeRiderOnlyOptimistic(t *testing.T) {
	cands := []Candidate{{Key: 100, Interested: true}} // the free rider: sends nothing
	for k := range ConnKey(5) {
		cands = append(cands, Candidate{Key: k, Interested: true, DownloadRate: float64(100 + k)})
	}
	c := chokerFixture(DefaultChokerConfig(), 5)
	unchokedRounds := 0
	for round := range 20 {
		set := c.Round(chokerEpoch.Add(time.Duration(round)*10*time.Second), cands, false)
		unchoke := []ConnKey{1, 2, 3, 4}
		for _, k := range unchoke {
			if !set[k] {
				t.Fatalf("round %d: unchoked %v, want the 4 fastest %v", round, unchokedKeys(set), unchoke)
			}
		}
		if opt := optimisticOf(set, unchoke); len(opt) != 1 {
			t.Fatalf("round %d: optimistic %v", round, opt)
		}
		if set[100] {
			unchokedRounds++
		}
	}
	// The optimistic slot rotates between peer 0 and the free rider: unchoked in half the rounds.
	if unchokedRounds != 10 {
		t.Fatalf("the free rider was unchoked in %d of 20 rounds, want 10 (the optimistic slot alternates)", unchokedRounds)
	}
}

func TestParseStrategyAndValidate(t *testing.T) {
	for _, s := range []string{"tit-for-tat", "rarity"} {
		if got, err := ParseChokeStrategy(s); err != nil || string(got) != s {
			t.Errorf("ParseChokeStrategy(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "TitForTat", "random"} {
		if _, err := ParseChokeStrategy(s); err == nil {
			t.Errorf("ParseChokeStrategy(%q) accepted", s)
		}
	}
	if err := DefaultChokerConfig().Validate(); err != nil {
		t.Fatalf("the default config is invalid: %v", err)
	}
	for _, cfg := range []ChokerConfig{
		{Strategy: "x", UnchokeSlots: 4, OptimisticSlots: 1, OptimisticEvery: 1},
		{Strategy: TitForTat, UnchokeSlots: -1, OptimisticSlots: 1, OptimisticEvery: 1},
		{Strategy: TitForTat, UnchokeSlots: 4, OptimisticSlots: -1, OptimisticEvery: 1},
		{Strategy: TitForTat, UnchokeSlots: 4, OptimisticSlots: 1, OptimisticEvery: 0},
	} {
		if cfg.Validate() == nil {
			t.Errorf("Validate(%+v) accepted", cfg)
		}
		if got := NewChoker(cfg, rand.New(rand.NewPCG(1, 1))).cfg; got.Validate() != nil {
			t.Errorf("NewChoker(%+v) kept an invalid config %+v", cfg, got)
		}
	}
}

func TestRarityScore(t *testing.T) {
	avail := func(piece int) int { return []int{1, 2, 4, 0, 5, 5, 5, 5, 5, 10}[piece] }
	tests := []struct {
		name          string
		peerHas, have []int
		want          float64
	}{
		{"nothing", nil, nil, 0},
		{"each piece worth 1/availability", []int{0, 1, 2}, nil, 1 + 0.5 + 0.25},
		{"pieces I have are worth nothing", []int{0, 1, 2}, []int{0, 2}, 0.5},
		{"availability 0 counts as 1", []int{3}, nil, 1},
		{"second byte", []int{8, 9}, []int{8}, 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RarityScore(bitfieldOf(10, tt.peerHas...), bitfieldOf(10, tt.have...), avail)
			if math.Abs(got-tt.want) > 1e-9 {
				t.Fatalf("RarityScore = %v, want %v", got, tt.want)
			}
		})
	}
	// A short "have" (a bitfield of the wrong length) must not panic.
	if got := RarityScore(bitfieldOf(10, 9), wire.Bitfield{}, avail); math.Abs(got-0.1) > 1e-9 {
		t.Fatalf("RarityScore with an empty have = %v, want 0.1", got)
	}
}
