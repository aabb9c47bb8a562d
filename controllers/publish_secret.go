package controllers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// The publish secret: a per-Swarm token that only the tracker and the seeders hold. The tracker
// stores a .torrent only from a holder of the token, so the first torrent it stores, and so the
// info-hash the swarm pins, is the seeders'. Peers never see the token.
const (
	publishVolume   = "publish"
	publishDir      = "/etc/minibit/publish"
	publishTokenKey = "token"
	// publishTokenPath is the file the tracker and the seeders read the token from.
	publishTokenPath = publishDir + "/" + publishTokenKey
	// publishTokenBytes is the token's entropy, written as hex.
	publishTokenBytes = 32
	// publishSecretMode lets the pods' group (fsGroup) read the token, and nobody else.
	publishSecretMode int32 = 0o440
)

// PublishSecretName is the name of a swarm's publish Secret: <swarm>-publish.
func PublishSecretName(s *minibitv1alpha1.Swarm) string { return s.Name + "-publish" }

// newPublishToken is a fresh token: 32 random bytes in hex.
func newPublishToken() string {
	b := make([]byte, publishTokenBytes)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program rather than return short
	return hex.EncodeToString(b)
}

// buildPublishSecret is the swarm's publish Secret holding token. It is immutable: the token is
// never rotated while the Swarm lives.
func buildPublishSecret(s *minibitv1alpha1.Swarm, token string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: ownedMeta(s, PublishSecretName(s), "publish-secret"),
		Type:       corev1.SecretTypeOpaque,
		Immutable:  ptr.To(true),
		Data:       map[string][]byte{publishTokenKey: []byte(token)},
	}
}

// withPublishSecret mounts the swarm's publish Secret, read-only, into the pod's container. Only
// the tracker's and the seeders' pods get it.
func withPublishSecret(s *minibitv1alpha1.Swarm, pod *corev1.Pod) *corev1.Pod {
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: publishVolume, VolumeSource: corev1.VolumeSource{
		Secret: &corev1.SecretVolumeSource{
			SecretName:  PublishSecretName(s),
			Items:       []corev1.KeyToPath{{Key: publishTokenKey, Path: publishTokenKey}},
			DefaultMode: ptr.To(publishSecretMode),
		},
	}})
	c := &pod.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: publishVolume, MountPath: publishDir, ReadOnly: true})
	return pod
}

// ensurePublishSecret creates the swarm's publish Secret when it is missing. A Secret of that
// name that the Swarm does not control (someone's planted token) fails the swarm: its pods would
// mount it.
func (r *SwarmReconciler) ensurePublishSecret(ctx context.Context, p *pass, obs *observed) error {
	if obs.publishSecret != nil {
		if !controlledBy(obs.publishSecret, p.swarm) {
			p.fail(ReasonNameConflict, nameConflict("Secret", obs.publishSecret.Name))
		}
		return nil
	}
	ours, err := r.createOwned(ctx, p.swarm, buildPublishSecret(p.swarm, newPublishToken()))
	if err != nil {
		return fmt.Errorf("creating the publish Secret: %w", err)
	}
	if !ours {
		p.fail(ReasonNameConflict, nameConflict("Secret", PublishSecretName(p.swarm)))
	}
	return nil
}
