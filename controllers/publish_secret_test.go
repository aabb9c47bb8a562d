package controllers

import (
	"encoding/hex"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/minibit-io/minibit/internal/swarmtest"
)

func TestNewPublishToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := newPublishToken()
		if b, err := hex.DecodeString(tok); err != nil || len(b) != 32 {
			t.Fatalf("token %q: want 32 bytes in hex", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q twice", tok)
		}
		seen[tok] = true
	}
}

func TestBuildPublishSecret(t *testing.T) {
	s := swarmtest.MakeSwarm("demo", "ns").UID("uid-1").Obj()
	sec := buildPublishSecret(s, "t0ken")
	if sec.Name != "demo-publish" || sec.Namespace != "ns" || !controlledBy(sec, s) {
		t.Errorf("identity %s/%s, owner %+v", sec.Namespace, sec.Name, sec.OwnerReferences)
	}
	if sec.Immutable == nil || !*sec.Immutable {
		t.Error("the Secret is not immutable: its token could be rotated")
	}
	if diff := cmp.Diff(map[string][]byte{"token": []byte("t0ken")}, sec.Data); diff != "" {
		t.Errorf("Secret data mismatch (-want +got):\n%s", diff)
	}
	if sec.Labels[LabelManagedBy] != ManagedByValue {
		t.Errorf("labels %v: the manager's cache would not see it", sec.Labels)
	}
}

// The token reaches the tracker and the seeders, read-only, and never a peer.
func TestPublishSecretMounts(t *testing.T) {
	s := swarmtest.MakeSwarm("demo", "ns").Obj()
	for role, wantArgs := range map[Role][]string{
		RoleTracker: {"--publish-secret-file=/etc/minibit/publish/token", "--registered-only"},
		RoleSeeder:  {"--publish-secret-file=/etc/minibit/publish/token"},
		RolePeer:    nil,
	} {
		pod := buildPod(s, PodDefaults{}, role, 0, 0)
		c := pod.Spec.Containers[0]
		mount := slices.IndexFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "publish" })
		vol := volumeNamed(pod, "publish")
		if wantArgs == nil {
			if mount >= 0 || vol != nil || hasPrefix(c.Args, "--publish-secret-file") || hasPrefix(c.Args, "--registered-only") {
				t.Errorf("%s: a peer holds the publish token: mounts %+v args %q", role, c.VolumeMounts, c.Args)
			}
			continue
		}
		if mount < 0 || !c.VolumeMounts[mount].ReadOnly || c.VolumeMounts[mount].MountPath != "/etc/minibit/publish" {
			t.Errorf("%s: mounts %+v", role, c.VolumeMounts)
		}
		if vol == nil || vol.Secret == nil || vol.Secret.SecretName != "demo-publish" || *vol.Secret.DefaultMode != 0o440 {
			t.Errorf("%s: volume %+v", role, vol)
		}
		for _, a := range wantArgs {
			if !slices.Contains(c.Args, a) {
				t.Errorf("%s: args lack %q: %q", role, a, c.Args)
			}
		}
	}
}
