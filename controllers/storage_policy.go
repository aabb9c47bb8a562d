package controllers

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// ReasonStorageRefused is the Failed reason of a swarm whose storage the manager refuses.
const ReasonStorageRefused = "StorageRefused"

// HostPathRoots are the host directories under which a Swarm's storage may be a hostPath: the
// manager's --allowed-host-path-roots. Empty allows no hostPath at all.
type HostPathRoots []string

// ParseHostPathRoots reads a comma-separated list of absolute paths. A root may not hold a ".."
// element; each is cleaned ("/var/cache//minibit/" is "/var/cache/minibit").
func ParseHostPathRoots(list string) (HostPathRoots, error) {
	var roots HostPathRoots
	for _, raw := range strings.Split(list, ",") {
		root := strings.TrimSpace(raw)
		if root == "" {
			continue
		}
		if !path.IsAbs(root) || hasDotDot(root) {
			return nil, fmt.Errorf("host path root %q: want an absolute path without \"..\"", root)
		}
		if root = path.Clean(root); !slices.Contains(roots, root) {
			roots = append(roots, root)
		}
	}
	return roots, nil
}

// ParseNodeCacheRoot checks the manager's --node-cache-root: empty (no node cache), or an
// absolute, clean path without ".." that is not "/" itself.
func ParseNodeCacheRoot(root string) (string, error) {
	switch {
	case root == "":
		return "", nil
	case !path.IsAbs(root) || hasDotDot(root):
		return "", fmt.Errorf("%q: want an absolute path without \"..\"", root)
	case path.Clean(root) != root:
		return "", fmt.Errorf("%q: want a clean path, such as %q", root, path.Clean(root))
	case root == "/":
		return "", errors.New(`"/": the node cache cannot be the host's root`)
	}
	return root, nil
}

// Allows says whether p is a root or lies below one, at a path boundary (/data/a allows
// /data/a/b, not /data/ab). p must be absolute and hold no ".." element: the kernel resolves
// ".." after any symlink before it, so no lexical cleaning can tell where such a path leads.
// Symlinks inside an allowed root are the admin's to avoid.
func (roots HostPathRoots) Allows(p string) bool {
	if !path.IsAbs(p) || hasDotDot(p) {
		return false
	}
	p = path.Clean(p)
	for _, root := range roots {
		if p == root || root == "/" || strings.HasPrefix(p, root+"/") {
			return true
		}
	}
	return false
}

func hasDotDot(p string) bool {
	return slices.Contains(strings.Split(p, "/"), "..")
}

// storageRefusal says why the manager refuses a Swarm's storage, or "" when it accepts it. The
// volume is the only part of a Swarm that becomes a pod volume the user chooses (the source's
// claim is mounted read-only; spec.pod adds no volume): it may be an emptyDir, a claim, an
// ephemeral volume, or a hostPath under an allowed root.
func storageRefusal(s *minibitv1alpha1.Swarm, roots HostPathRoots) string {
	v := s.Spec.Storage.Volume
	switch {
	case v == nil:
		return ""
	case v.HostPath != nil:
		return hostPathRefusal(v.HostPath, roots)
	case v.EmptyDir != nil, v.PersistentVolumeClaim != nil, v.Ephemeral != nil:
		return ""
	}
	return "storage.volume must be an emptyDir, hostPath, persistentVolumeClaim or ephemeral volume"
}

func hostPathRefusal(h *corev1.HostPathVolumeSource, roots HostPathRoots) string {
	switch {
	case roots.Allows(h.Path):
		return ""
	case len(roots) == 0:
		return fmt.Sprintf("storage.volume.hostPath %q is refused: this cluster allows no hostPath storage (the manager's --allowed-host-path-roots is empty)", h.Path)
	case hasDotDot(h.Path):
		return fmt.Sprintf("storage.volume.hostPath %q is refused: it holds \"..\"", h.Path)
	}
	return fmt.Sprintf("storage.volume.hostPath %q is refused: it is not under an allowed root (%s)", h.Path, strings.Join(roots, ", "))
}

// refuseStorage fails a swarm whose storage the manager refuses, and deletes the pods it may
// already have (created before the roots were narrowed): they must not keep the host's files
// open. It says whether it refused.
func (r *SwarmReconciler) refuseStorage(p *pass, obs *observed) bool {
	msg := storageRefusal(p.swarm, r.HostPathRoots)
	if msg == "" {
		return false
	}
	p.fail(ReasonStorageRefused, msg)
	for _, pod := range obs.pods {
		if pod.DeletionTimestamp.IsZero() {
			p.doomed = append(p.doomed, pod)
		}
	}
	return true
}
