package controllers

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/swarmtest"
)

func TestParseHostPathRoots(t *testing.T) {
	roots, err := ParseHostPathRoots(" /var/cache/minibit/ , ,/data//images,/var/cache/minibit")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(HostPathRoots{"/var/cache/minibit", "/data/images"}, roots); diff != "" {
		t.Errorf("roots mismatch (-want +got):\n%s", diff)
	}
	if roots, err := ParseHostPathRoots(""); err != nil || len(roots) != 0 {
		t.Errorf("empty list: %q %v, want no root", roots, err)
	}
	for _, bad := range []string{"relative/dir", "/var/../etc", "/data,cache"} {
		if _, err := ParseHostPathRoots(bad); err == nil {
			t.Errorf("ParseHostPathRoots(%q) accepted", bad)
		}
	}
}

// The attacker's paths first: each tries to leave the allowed root.
func TestHostPathRootsAllows(t *testing.T) {
	roots := HostPathRoots{"/var/cache/minibit"}
	for p, want := range map[string]bool{
		"/var/cache/minibit/../../../etc":  false, // climbs out
		"/var/cache/minibit/a/../../other": false, // climbs out after a step in
		"/var/cache/minibit/..":            false,
		"/var/cache/minibit2":              false, // a prefix, not a path boundary
		"/var/cache/minibit-evil/x":        false,
		"/var/cache":                       false, // the root's parent
		"/":                                false,
		"var/cache/minibit/x":              false, // relative: the kubelet's working directory
		"":                                 false,
		"/var/cache/minibit/a/..":          false, // harmless lexically, but ".." follows symlinks
		"/var/cache/minibit":               true,
		"/var/cache/minibit/":              true,
		"/var/cache/minibit/model-v3":      true,
		"//var/cache//minibit/./x":         true,
	} {
		if got := roots.Allows(p); got != want {
			t.Errorf("Allows(%q) = %v, want %v", p, got, want)
		}
	}
	if (HostPathRoots{}).Allows("/var/cache/minibit") {
		t.Error("no root allows a hostPath")
	}
	if !(HostPathRoots{"/"}).Allows("/etc") {
		t.Error("the root / allows nothing")
	}
}

func TestStorageRefusal(t *testing.T) {
	roots := HostPathRoots{"/var/cache/minibit"}
	tests := []struct {
		name   string
		volume *corev1.VolumeSource
		roots  HostPathRoots
		want   string // a part of the message; "" accepts
	}{
		{name: "the default emptyDir", roots: roots},
		{name: "an emptyDir", volume: &corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, roots: roots},
		{name: "a claim", volume: &corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}},
		{name: "an ephemeral volume", volume: &corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
		{name: "a hostPath under a root", volume: hostPath("/var/cache/minibit/v3"), roots: roots},
		{name: "a hostPath with no root allowed", volume: hostPath("/var/cache/minibit"), want: "allows no hostPath"},
		{name: "a hostPath outside the roots", volume: hostPath("/etc"), roots: roots, want: "not under an allowed root (/var/cache/minibit)"},
		{name: "a hostPath climbing out", volume: hostPath("/var/cache/minibit/../../etc"), roots: roots, want: `holds ".."`},
		{name: "a secret", volume: &corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "x"}}, roots: roots, want: "must be an emptyDir"},
		{name: "a projected token", volume: &corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}, roots: roots, want: "must be an emptyDir"},
		{name: "an nfs share", volume: &corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "s", Path: "/"}}, roots: roots, want: "must be an emptyDir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := swarmtest.MakeSwarm("s", "ns").StorageVolume(tt.volume).Obj()
			got := storageRefusal(s, tt.roots)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("storageRefusal = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRefuseStorageFailsTheSwarmAndStopsItsPods(t *testing.T) {
	s := swarmtest.MakeSwarm("s", "ns").HostPath("/etc").Obj()
	p := newPass(s, t0)
	r := &SwarmReconciler{HostPathRoots: HostPathRoots{"/var/cache/minibit"}}
	if !r.refuseStorage(p, withPods(podsOf(nil), "s-peer-0")) {
		t.Fatal("not refused")
	}
	if p.status.Phase != minibitv1alpha1.PhaseFailed || len(p.doomed) != 1 {
		t.Errorf("phase %s, %d pods to delete; want Failed and 1", p.status.Phase, len(p.doomed))
	}
	wantCondition(t, p, minibitv1alpha1.ConditionFailed, "True", ReasonStorageRefused)
	wantEvents(t, p, "SwarmFailed")
}

func hostPath(p string) *corev1.VolumeSource {
	return &corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: p}}
}
