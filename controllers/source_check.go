package controllers

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

// Reasons of the SourceReady condition (and of Failed for a source refused for good).
const (
	// ReasonSourceRefused fails a swarm whose source can never work as written (http.urls
	// naming two files alike, a payload bound whose .torrent no tracker holds).
	ReasonSourceRefused = "SourceRefused"
	// ReasonSecretMissing: a Secret the source names does not exist (yet).
	ReasonSecretMissing = "SecretMissing"
	// ReasonSecretInvalid: a Secret the source names lacks a key or has the wrong type.
	ReasonSecretInvalid = "SecretInvalid"
	// ReasonSecretsFound: every Secret the source names holds its keys.
	ReasonSecretsFound = "SecretsFound"
)

// minTorrentLimit is the least --max-torrent-bytes a tracker gets: the tracker's limit before
// it followed the payload, so that every swarm that published before still does.
const minTorrentLimit int64 = 8 << 20

// peersTorrentLimit is the largest .torrent the peers fetch (the tracker client's default:
// `peer get` takes no limit flag), so the most a swarm's tracker needs to take.
const peersTorrentLimit int64 = api.DefaultMaxTorrentBytes

// maxTorrentBytes is the tracker's --max-torrent-bytes for the swarm: a safe bound of the
// .torrent of any payload within the source's bound, at least minTorrentLimit and at most
// what the peers fetch.
func maxTorrentBytes(st settings) int64 {
	return min(max(torrentBound(st), minTorrentLimit), peersTorrentLimit)
}

// torrentBound is metainfo's bound of the .torrent of a payload within the source's bound.
func torrentBound(st settings) int64 {
	pieceLength := st.pieceSize
	if st.autoPieceSize {
		pieceLength = metainfo.AutoPieceLength(st.maxBytes)
	}
	return metainfo.MaxTorrentBytesFor(st.maxBytes, pieceLength, st.maxFiles)
}

// refuseSource fails a swarm whose source can never work (http.urls naming one file twice,
// generated content whose .torrent peers would not fetch). It says whether it refused.
func refuseSource(p *pass) bool {
	msg := staticSourceRefusal(p)
	if msg != "" {
		p.fail(ReasonSourceRefused, msg)
	}
	return msg != ""
}

// waitForSecrets says whether a Secret the source names is missing, of the wrong type or
// without a key: then no seeder is created (condition SourceReady False, one Warning Event)
// and the swarm looks again a period later. The Secrets are read only while a seeder is to be
// created.
func (r *SwarmReconciler) waitForSecrets(ctx context.Context, p *pass, obs *observed) (bool, error) {
	secrets := sourceSecrets(p.swarm)
	if len(secrets) == 0 || !seederMissing(p, obs) {
		return false, nil
	}
	reason, msg, err := r.checkSourceSecrets(ctx, p.swarm, secrets)
	if err != nil {
		return false, err
	}
	if reason == "" {
		p.setCondition(minibitv1alpha1.ConditionSourceReady, metav1.ConditionTrue, ReasonSecretsFound,
			"every Secret the source names holds its keys")
		return false, nil
	}
	if !hasCondition(p.swarm, minibitv1alpha1.ConditionSourceReady, reason) {
		p.record(corev1.EventTypeWarning, reason, "Refuse", "%s", msg)
	}
	p.setCondition(minibitv1alpha1.ConditionSourceReady, metav1.ConditionFalse, reason, msg)
	p.setCondition(minibitv1alpha1.ConditionProgressing, metav1.ConditionFalse, reason, msg)
	p.wakeIn(r.period()) // the manager does not watch the users' Secrets: it looks again
	return true, nil
}

// staticSourceRefusal says why the source can never work, or "": http.urls that name one file
// twice, or generated content whose .torrent the peers would not fetch. (Other sources' sizes
// are bounds, not sizes: a payload too large for its pieces fails its seeder's publish, with
// the tracker's answer in the seeder's log.)
func staticSourceRefusal(p *pass) string {
	if msg := sourceRefusal(p.swarm); msg != "" {
		return msg
	}
	if bound := torrentBound(p.st); p.swarm.Spec.Source.Generate != nil && bound > peersTorrentLimit {
		return fmt.Sprintf("the .torrent of %s of generated content in %s could reach %d bytes, more than peers fetch (%d): "+
			"use a larger pieceSize, or Auto", formatSize(p.st.maxBytes), pieceSizeText(p.st), bound, peersTorrentLimit)
	}
	return ""
}

// pieceSizeText names the swarm's piece size for a message.
func pieceSizeText(st settings) string {
	if st.autoPieceSize {
		return "pieces of the Auto size"
	}
	return "pieces of " + formatSize(st.pieceSize)
}

// seederMissing says whether a seeder pod of the swarm is to be created.
func seederMissing(p *pass, obs *observed) bool {
	for i := range p.st.count(RoleSeeder) {
		if obs.pods[PodName(p.swarm, RoleSeeder, i)] == nil {
			return true
		}
	}
	return false
}

// checkSourceSecrets reads each Secret past the cache (the cache holds only the manager's own)
// and says what is wrong with the first that is missing, of the wrong type or without a key.
func (r *SwarmReconciler) checkSourceSecrets(ctx context.Context, s *minibitv1alpha1.Swarm, secrets []sourceSecret) (string, string, error) {
	for _, want := range secrets {
		var sec corev1.Secret
		err := r.reader().Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: want.name}, &sec)
		switch {
		case apierrors.IsNotFound(err):
			return ReasonSecretMissing, fmt.Sprintf("source.%s: Secret %s/%s does not exist: no pod starts until it does",
				want.field, s.Namespace, want.name), nil
		case err != nil:
			return "", "", fmt.Errorf("reading Secret %s of source.%s: %w", want.name, want.field, err)
		case want.secretType != "" && sec.Type != want.secretType:
			return ReasonSecretInvalid, fmt.Sprintf("source.%s: Secret %s/%s has type %q, not %s (kubectl create secret docker-registry makes one)",
				want.field, s.Namespace, want.name, sec.Type, want.secretType), nil
		}
		if missing := secretKeysMissing(&sec, want.items); len(missing) > 0 {
			return ReasonSecretInvalid, fmt.Sprintf("source.%s: Secret %s/%s lacks the key(s) %s",
				want.field, s.Namespace, want.name, strings.Join(missing, ", ")), nil
		}
	}
	return "", "", nil
}
