package controllers

import (
	"fmt"
	"strconv"
	"strings"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// Role is the part a pod plays in a swarm.
type Role string

// The three roles of a swarm's pods.
const (
	RoleTracker Role = "tracker"
	RoleSeeder  Role = "seeder"
	RolePeer    Role = "peer"
)

// Labels every child of a Swarm carries.
const (
	// LabelSwarm is the owning Swarm's name.
	LabelSwarm = "swarm.minibit.io/swarm"
	// LabelRole is tracker, seeder or peer.
	LabelRole = "swarm.minibit.io/role"
	// LabelIndex is the pod's index within its role.
	LabelIndex = "swarm.minibit.io/index"
	// LabelAttempt counts the replacements of this pod name (0 for the first pod).
	LabelAttempt = "swarm.minibit.io/attempt"
	// LabelManagedBy marks MiniBit's children; the manager caches only pods carrying it.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is LabelManagedBy's value.
	ManagedByValue = "minibit-operator"
)

// Ports and paths of the engine's binaries.
const (
	trackerPort = 8080
	peerPort    = 6881
	metricsPort = 9090
	dataDir     = "/data"
	sourceDir   = "/source"
)

// TrackerName is the name of the tracker's pod and Service.
func TrackerName(s *minibitv1alpha1.Swarm) string { return s.Name + "-tracker" }

// PodName is the deterministic name of the pod of a role at an index: <swarm>-tracker,
// <swarm>-seeder-<i>, <swarm>-peer-<i>.
func PodName(s *minibitv1alpha1.Swarm, role Role, index int) string {
	if role == RoleTracker {
		return TrackerName(s)
	}
	return fmt.Sprintf("%s-%s-%d", s.Name, role, index)
}

// InClusterTrackerURL is the tracker's address inside the cluster, through its Service.
func InClusterTrackerURL(s *minibitv1alpha1.Swarm) string {
	return fmt.Sprintf("http://%s.%s.svc:%d", TrackerName(s), s.Namespace, trackerPort)
}

// slot is one pod the swarm wants: a role and an index.
type slot struct {
	role  Role
	index int
}

// slotOf reads a child pod's role and index from its labels.
func slotOf(labels map[string]string) (slot, bool) {
	role := Role(labels[LabelRole])
	switch role {
	case RoleTracker, RoleSeeder, RolePeer:
	default:
		return slot{}, false
	}
	index, err := strconv.Atoi(labels[LabelIndex])
	if err != nil || index < 0 {
		return slot{}, false
	}
	return slot{role: role, index: index}, true
}

// attemptOf reads a pod's attempt label; a missing or bad label is 0.
func attemptOf(labels map[string]string) int32 {
	n, err := strconv.ParseInt(labels[LabelAttempt], 10, 32)
	if err != nil || n < 0 {
		return 0
	}
	return int32(n)
}

// childLabels are the labels of a child of s in a role (index < 0 for the Service).
func childLabels(s *minibitv1alpha1.Swarm, role Role) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      "minibit",
		"app.kubernetes.io/instance":  s.Name,
		"app.kubernetes.io/component": string(role),
		LabelManagedBy:                ManagedByValue,
		LabelSwarm:                    s.Name,
		LabelRole:                     string(role),
	}
}

// peerSelector is the label selector of a swarm's peer pods, for the scale subresource.
func peerSelector(s *minibitv1alpha1.Swarm) string {
	return LabelSwarm + "=" + s.Name + "," + LabelRole + "=" + string(RolePeer)
}

// formatSize writes a byte count the way the engine's flags read it: with a binary unit when
// it divides exactly (256KiB, 64MiB), plain digits otherwise.
func formatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// sourceFileName is the name of the file a swarm distributes, as the seeder writes it, or of
// its directory (the Swarm's name) for a directory source.
func sourceFileName(s *minibitv1alpha1.Swarm) string {
	src := s.Spec.Source
	switch {
	case directorySource(src):
		return s.Name
	case src.HTTP != nil:
		return safeFileName(urlFileName(src.HTTP.URL), s.Name)
	case src.PersistentVolumeClaim != nil:
		return safeFileName(lastSegment(src.PersistentVolumeClaim.Path), s.Name)
	default:
		return s.Name + ".bin"
	}
}

func lastSegment(p string) string {
	p = strings.TrimRight(p, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

// safeFileName keeps a name that is safe as one path element, or falls back.
func safeFileName(name, fallback string) string {
	if name == "" || name == "." || name == ".." || len(name) > 200 ||
		strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == '/' || r == '\\' }) {
		return fallback
	}
	return name
}

// slotOfName reads the role and index from a child pod's name.
func slotOfName(s *minibitv1alpha1.Swarm, name string) (slot, bool) {
	if name == TrackerName(s) {
		return slot{role: RoleTracker}, true
	}
	for _, role := range []Role{RoleSeeder, RolePeer} {
		prefix := s.Name + "-" + string(role) + "-"
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			if i, err := strconv.Atoi(rest); err == nil && i >= 0 {
				return slot{role: role, index: i}, true
			}
		}
	}
	return slot{}, false
}
