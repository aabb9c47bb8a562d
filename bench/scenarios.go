package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/minibit-io/minibit/internal/peer"
)

// Sizes and links of the scenarios.
const (
	mib = 1 << 20
	kib = 1 << 10
)

// variant is one swarm configuration of a scenario.
type variant struct {
	Name string
	Spec swarmSpec
}

// scenario is what `make bench SCENARIO=name` runs: its variants, each repeated Reps times with
// different seeds. Primary names the variant whose medians head the JSON.
type scenario struct {
	Name        string
	Description string
	Reps        int
	Primary     string
	Variants    []variant
}

// referenceSpec is the reference swarm: 50 leechers and a seeder, 64 MiB in 256 KiB
// pieces, every upload capped at 4 MiB/s, the files in memory: 50 copies written in 17 s to
// this machine's one disk measure the shared disk, where each peer of a deployment writes its
// 4 MiB/s to its own (storage.go; referenceOnDisk is the same swarm on disk).
func referenceSpec() swarmSpec {
	return swarmSpec{Leechers: 50, Size: 64 * mib, PieceSize: 256 * kib, UploadCap: 4 * mib, SuperSeed: true,
		Storage: storageMemory, Timeout: 3 * time.Minute}
}

// referenceOnDisk is the reference swarm with its files on disk, the lab's shared disk included.
func referenceOnDisk() swarmSpec {
	spec := referenceSpec()
	spec.Storage = storageDisk
	return spec
}

// experimentSpec is the smaller swarm of experiments 2 to 4: 25 leechers, 16 MiB in 256 KiB
// pieces (M = 64), 4 MiB/s links: T* = 4.25 s.
func experimentSpec() swarmSpec {
	return swarmSpec{Leechers: 25, Size: 16 * mib, PieceSize: 256 * kib, UploadCap: 4 * mib, SuperSeed: true, Timeout: 2 * time.Minute}
}

// scenarios lists every scenario in the order `make bench` runs them.
func scenarios() []scenario {
	return []scenario{reference(), uncapped(), clientServer(), rarestFirst(), titForTat(), faultTolerance(), scale()}
}

func reference() scenario {
	return scenario{Name: "reference", Reps: 3, Primary: "reference",
		Description: "N = 50 leechers and 1 seeder, 64 MiB in 256 KiB pieces (M = 256), every upload capped at 4 MiB/s, the seeder super-seeding (BEP 16); T* = 16.3 s; the swarm's files in memory (a tmpfs: the lab's one disk taking every peer's writes is not what a deployment has). Also on disk (reference-disk), with a plain seeder, and scaled to 16 MiB in 64 KiB pieces at 1 MiB/s (same N, M and T*), and as a directory of 16 files (the pad files after each file add a few pieces); and the same swarm of libtorrent 2.0 peers, with a super-seeder and a plain one (python3-libtorrent, rate limits applied on loopback), their files in memory too.",
		// reference-disk right after the reference, so that the two are measured back to back.
		Variants: []variant{{Name: "reference", Spec: referenceSpec()}, {Name: referenceDiskVariant, Spec: referenceOnDisk()},
			{Name: "plain-seeder", Spec: plainSeeder(referenceSpec())},
			{Name: "scaled-1mib", Spec: scaledReference()}, {Name: "directory", Spec: directoryReference()},
			{Name: "libtorrent", Spec: withLibtorrent(referenceSpec())},
			{Name: "libtorrent-plain-seeder", Spec: withLibtorrent(plainSeeder(referenceSpec()))}}}
}

// withLibtorrent is spec run by libtorrent 2.0 peers instead of MiniBit's (libtorrent.go), for
// the side-by-side table; the variant is skipped where python3-libtorrent is missing.
func withLibtorrent(spec swarmSpec) swarmSpec {
	spec.Client = clientLibtorrent
	return spec
}

// scaledReference has the reference's N, M and T* with a quarter of the bytes: 16 MiB in
// 64 KiB pieces at 1 MiB/s. Its caps sum to 51 MiB/s against the full reference's 204 MiB/s
// (of writes, hashing and loopback TCP), so it measures the protocol with the CPU out of the
// way where the full reference may be limited by the machine (docs/benchmarks.md).
func scaledReference() swarmSpec {
	spec := referenceSpec()
	spec.Size, spec.PieceSize, spec.UploadCap = 16*mib, 64*kib, 1*mib
	return spec
}

// directoryReference is the reference swarm sharing a model-like directory of 16 files
// (generate.TreeLayout: shards, a config, a tokenizer and an empty file) instead of one file.
func directoryReference() swarmSpec {
	spec := referenceSpec()
	spec.Files = 16
	return spec
}

// plainSeeder is spec without super-seeding: the seeder advertises every piece.
func plainSeeder(spec swarmSpec) swarmSpec {
	spec.SuperSeed = false
	return spec
}

func uncapped() scenario {
	return scenario{Name: "uncapped", Reps: 3, Primary: "uncapped",
		Description: "1 seeder and 8 leechers of a 256 MiB file, no caps: the engine's raw speed (issue 15's goal: 1.1 GB/s aggregate to durable copies, 2.3 x libtorrent); and the same swarm of libtorrent 2.0 peers.",
		Variants:    []variant{{Name: "uncapped", Spec: uncappedSpec()}, {Name: "libtorrent", Spec: withLibtorrent(uncappedSpec())}}}
}

// uncappedSpec is 1 seeder and 8 leechers of a 256 MiB file in 256 KiB pieces, no caps.
func uncappedSpec() swarmSpec {
	return swarmSpec{Leechers: 8, Size: 256 * mib, PieceSize: 256 * kib, Timeout: 3 * time.Minute}
}

// clientServer is experiment 1: peers that download only from the seeder against the swarm, as
// N grows. A small file (4 MiB, 64 KiB pieces, 8 MiB/s links) keeps client-server at N = 100
// (its bound N F / u_s = 50 s) within the lab's time.
func clientServer() scenario {
	sc := scenario{Name: "client-server", Reps: 1, Primary: "p2p-n50",
		Description: "Experiment 1: client-server (leechers download only from the seeder, upload nothing) against P2P, N = 5 to 100; 4 MiB in 64 KiB pieces, 8 MiB/s links."}
	for _, n := range []int{5, 10, 25, 50, 100} {
		spec := swarmSpec{Leechers: n, Size: 4 * mib, PieceSize: 64 * kib, UploadCap: 8 * mib, Timeout: 3 * time.Minute}
		sc.Variants = append(sc.Variants, variant{Name: fmt.Sprintf("p2p-n%d", n), Spec: spec})
		spec.ClientServer = true
		sc.Variants = append(sc.Variants, variant{Name: fmt.Sprintf("cs-n%d", n), Spec: spec})
	}
	return sc
}

// rarestFirst is experiment 2: rarest first against random piece choice, each also with the
// seeder leaving once every piece exists among the leechers.
func rarestFirst() scenario {
	sc := scenario{Name: "rarest-first", Reps: 2, Primary: "rarest",
		Description: "Experiment 2: rarest first against random piece choice (25 leechers, 16 MiB, 4 MiB/s); and with the seeder leaving once every piece exists at some leecher."}
	for _, st := range []peer.PieceStrategy{peer.RarestFirst, peer.RandomPiece} {
		spec := experimentSpec()
		spec.PieceStrategy = st
		sc.Variants = append(sc.Variants, variant{Name: string(st), Spec: spec})
		spec.SeederLeaves = true
		sc.Variants = append(sc.Variants, variant{Name: string(st) + "-seeder-leaves", Spec: spec})
	}
	return sc
}

// titForTat is experiment 3: tit-for-tat against unconditional uploading with 20 % free-riders;
// mixed capacities; the note's rarity choker.
func titForTat() scenario {
	base := experimentSpec()
	base.ChokeInterval = time.Second // the note's 10 s is as long as a whole run (docs/benchmarks.md)
	// The leechers' uploads, not the seeder's, must be the bottleneck for choking to matter: a
	// fast seeder (16 MiB/s) and 1 MiB/s leechers (fluid bound 9.8 s, F/u_s only 1 s).
	base.SeederCap, base.UploadCap = 16*mib, 1*mib
	riders := base
	riders.FreeRiders = base.Leechers / 5
	unconditional := riders
	unconditional.Choker = peer.ChokerConfig{Strategy: peer.TitForTat, UnchokeSlots: base.Leechers + 1, OptimisticSlots: 0, OptimisticEvery: 1}
	rarity := riders
	rarity.Choker = peer.DefaultChokerConfig()
	rarity.Choker.Strategy = peer.Rarity
	mixed := base
	mixed.FastPeers, mixed.FastCap = base.Leechers/2, 4*base.UploadCap
	return scenario{Name: "tit-for-tat", Reps: 3, Primary: "tft-free-riders",
		Description: "Experiment 3: tit-for-tat (4 + 1 slots) against unconditional uploading (every interested peer unchoked), with 20 % free-riders; mixed capacities (half u, half 4u); the note's rarity choker. 25 leechers, 16 MiB, u = 1 MiB/s and a 16 MiB/s super-seeder (so that the leechers' uploads are the bottleneck); choking rounds every 1 s (the note's 10 s is as long as the whole run).",
		Variants: []variant{{"tft", base}, {"tft-free-riders", riders}, {"unconditional-free-riders", unconditional},
			{"rarity-free-riders", rarity}, {"tft-mixed-capacity", mixed}}}
}

// faultTolerance is experiment 4: a third of the leechers killed at 30 % and at 60 % of the run
// (of the first variant's median makespan), and the tracker killed.
func faultTolerance() scenario {
	base := experimentSpec()
	at30, at60, tracker := base, base, base
	at30.KillAt = []float64{0.3}
	at60.KillAt = []float64{0.6}
	tracker.KillTrackerAt = 0.3
	return scenario{Name: "fault-tolerance", Reps: 2, Primary: "kill-third-30",
		Description: "Experiment 4: a third of the downloading leechers killed at 30 % or 60 % of the no-fault run's makespan, or the tracker killed at 30 %. 25 leechers, 16 MiB, 4 MiB/s.",
		Variants:    []variant{{"no-fault", base}, {"kill-third-30", at30}, {"kill-third-60", at60}, {"kill-tracker-30", tracker}}}
}

// Scale scenario: the sizes of N, and the file and links sized so that the machine is not the
// limit at N = 1000 (docs/benchmarks.md, "Scale").
var scaleLeechers = []int{125, 250, 500, 1000}

const (
	scaleSize      = 1 * mib
	scalePieceSize = 16 * kib
	scaleUploadCap = 24 * kib
	// scaleMaxPeers bounds a leecher's connections: this machine's hard limit of 20,000 open
	// files (raiseFileLimit cannot go past it without CAP_SYS_RESOURCE) holds both ends of every
	// loopback connection of 1001 sessions plus their listeners, tracker connections and files:
	// (1000 x 12 + 1000 at the seeder) / 2 connections, 13,000 descriptors, where the default 50
	// would need 50,000.
	scaleMaxPeers = 12
)

// scaleSpec is the scale scenario's swarm of n leechers: 1 MiB in 16 KiB pieces (M = 64), every
// upload capped at 24 KiB/s (F/u = 42.7 s), the seeder super-seeding as in the reference. At
// N = 1000 the caps add up to 24 MiB/s, an eighth of the reference's 200 MiB/s: at 48 KiB/s
// (2 MiB, M = 128) the machine was 93 % busy, most of it writing HAVE messages, one per piece
// and connection (docs/benchmarks.md, "Scale"). The tracker runs as a child process, so that
// its memory and the peers' are measured apart.
func scaleSpec(n int) swarmSpec {
	return swarmSpec{Leechers: n, Size: scaleSize, PieceSize: scalePieceSize, UploadCap: scaleUploadCap,
		SuperSeed: true, MaxPeers: scaleMaxPeers, OwnAddresses: true, TrackerProcess: true, Timeout: 5 * time.Minute}
}

// scale is the 1000 peers: N = 125 to 1000 leechers in this one process, to show that
// the makespan grows with log N, not with N, and what the tracker and a peer hold in memory.
func scale() scenario {
	sc := scenario{Name: "scale", Reps: 1, Primary: fmt.Sprintf("n%d", slices.Max(scaleLeechers)),
		Description: "N = 125 to 1000 leechers and 1 seeder in one process, 1 MiB in 16 KiB pieces (M = 64), every upload capped at 24 KiB/s (24 MiB/s in all at N = 1000), the seeder super-seeding, 12 connections per leecher (the machine's open-files limit), each session on its own loopback address, the tracker in a child process; T* = 42.7 s x (1 + floor(log2 N)/64)."}
	for _, n := range scaleLeechers {
		sc.Variants = append(sc.Variants, variant{Name: fmt.Sprintf("n%d", n), Spec: scaleSpec(n)})
	}
	return sc
}

// findScenario returns the scenario named name.
func findScenario(name string) (scenario, bool) {
	for _, sc := range scenarios() {
		if sc.Name == name {
			return sc, true
		}
	}
	return scenario{}, false
}
