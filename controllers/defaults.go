package controllers

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// The engine's defaults (the design note's numbers), used when a field is unset. The API server
// fills the same values from the CRD's defaults; these cover objects built without it.
const (
	DefaultPieceSize        int64 = 256 << 10 // note 1: blocks of 256 KiB
	DefaultSeeders          int32 = 1
	DefaultUnchokeSlots     int32 = 4                // note 5: 4 unchoke slots
	DefaultOptimisticSlots  int32 = 1                // note 5: + 1 optimistic
	DefaultChokeInterval          = 10 * time.Second // note 5: every 10 s
	DefaultAnnounceInterval       = 30 * time.Second // note 6: heartbeat every 30 s
	DefaultPeerTTL                = 5 * time.Minute  // note 7: inactive after 5 min
	DefaultNumWant          int32 = 5                // note 3: sample of min(5, others)
	DefaultNetworkTimeout         = 10 * time.Second // note 6: network timeout 10 s
	DefaultMaxPeers         int32 = 50
	DefaultMaxPeerFailures  int32 = 10
	DefaultMaxPodFailures   int32 = 3           // seeders and tracker
	DefaultBackoffInitial         = time.Second // note 7: backoff 1 s, 2 s, 4 s ...
	DefaultBackoffMax             = 5 * time.Minute
	DefaultChaosInterval          = 30 * time.Second
	DefaultChaosCount       int32 = 3
	// DefaultHTTPMaxBytes bounds an http source's download (http.maxBytes' default).
	DefaultHTTPMaxBytes int64 = 32 << 30
)

// settings is a Swarm's spec with every default applied: what the builders and policies read.
type settings struct {
	seeders          int32
	peers            int32
	pieceSize        int64 // 0 with autoPieceSize
	autoPieceSize    bool
	unchokeSlots     int32
	optimisticSlots  int32
	chokeInterval    time.Duration
	chokeStrategy    minibitv1alpha1.ChokingStrategy
	uploadRate       int64
	downloadRate     int64
	announceInterval time.Duration
	peerTTL          time.Duration
	numWant          int32
	timeout          time.Duration
	maxPeers         int32
	peerAction       minibitv1alpha1.FailureAction
	maxFailures      map[Role]int32
	backoffInitial   time.Duration
	backoffMax       time.Duration
	exitOnComplete   bool
	chaosInterval    time.Duration
	chaosCount       int32
	// maxBytes and maxFiles bound the payload: the source's size or maxBytes, its file count.
	maxBytes      int64
	maxFiles      int
	networkPolicy bool
	// perNode, parallelism and retention are the placement's (PerNode: peers is 0, the nodes
	// decide).
	perNode     bool
	parallelism int32
	retention   time.Duration
}

// settingsOf reads a Swarm's spec, applying the engine's defaults to unset fields.
func settingsOf(s *minibitv1alpha1.Swarm) settings {
	spec := &s.Spec
	st := settings{
		seeders:          orDefault(spec.Seeders, DefaultSeeders),
		peers:            spec.Peers,
		unchokeSlots:     orDefault(spec.Choking.UnchokeSlots, DefaultUnchokeSlots),
		optimisticSlots:  derefOr(spec.Choking.OptimisticSlots, DefaultOptimisticSlots),
		chokeInterval:    durationOr(spec.Choking.Interval, DefaultChokeInterval),
		chokeStrategy:    orDefault(spec.Choking.Strategy, minibitv1alpha1.ChokingTitForTat),
		announceInterval: durationOr(spec.Tracker.AnnounceInterval, DefaultAnnounceInterval),
		peerTTL:          durationOr(spec.Tracker.PeerTTL, DefaultPeerTTL),
		numWant:          orDefault(spec.Tracker.NumWant, DefaultNumWant),
		timeout:          durationOr(spec.Network.Timeout, DefaultNetworkTimeout),
		maxPeers:         orDefault(spec.Network.MaxPeers, DefaultMaxPeers),
		peerAction:       orDefault(spec.FailurePolicy.PeerAction, minibitv1alpha1.FailureActionReplace),
		maxFailures: map[Role]int32{
			RolePeer:    derefOr(spec.FailurePolicy.MaxPeerFailures, DefaultMaxPeerFailures),
			RoleSeeder:  derefOr(spec.FailurePolicy.MaxSeederFailures, DefaultMaxPodFailures),
			RoleTracker: derefOr(spec.FailurePolicy.MaxTrackerFailures, DefaultMaxPodFailures),
		},
		backoffInitial: durationOr(spec.FailurePolicy.Backoff.Initial, DefaultBackoffInitial),
		backoffMax:     durationOr(spec.FailurePolicy.Backoff.Max, DefaultBackoffMax),
		exitOnComplete: spec.Completion.Mode == minibitv1alpha1.CompletionExit,
		networkPolicy:  derefOr(spec.NetworkPolicy.Enabled, true),
	}
	if pl := spec.Placement; perNode(s) {
		st.perNode, st.peers = true, 0
		st.parallelism = max(pl.Parallelism, 0)
		st.retention = durationOr(pl.Retention, minibitv1alpha1.DefaultPlacementRetention)
	}
	st.maxBytes, st.maxFiles = payloadBound(s)
	st.pieceSize, st.autoPieceSize = pieceSizeOf(spec.PieceSize)
	if spec.UploadRate != nil {
		st.uploadRate = max(spec.UploadRate.Value(), 0)
	}
	if spec.DownloadRate != nil {
		st.downloadRate = max(spec.DownloadRate.Value(), 0)
	}
	if c := spec.Chaos; c != nil {
		st.chaosInterval = durationOr(c.Interval, DefaultChaosInterval)
		st.chaosCount = orDefault(c.Count, DefaultChaosCount)
	}
	return st
}

// count is how many pods the swarm wants in a role.
func (st settings) count(role Role) int {
	switch role {
	case RoleTracker:
		return 1
	case RoleSeeder:
		return int(st.seeders)
	default:
		return int(st.peers)
	}
}

// replaces says whether a failed or deleted pod of a role gets a replacement: the tracker and
// the seeders always do, peers under the Replace action.
func (st settings) replaces(role Role) bool {
	return role != RolePeer || st.peerAction != minibitv1alpha1.FailureActionIgnore
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func derefOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func durationOr(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil || d.Duration <= 0 {
		return def
	}
	return d.Duration
}
