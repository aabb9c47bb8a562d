package controllers

import (
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

// Reasons of the ContentMismatch condition.
const (
	ReasonContentAsPinned      = "ContentAsPinned"
	ReasonTrackerOtherContent  = "TrackerReportsOtherContent"
	ReasonContentMismatchEvent = "ContentMismatch"
)

// pinContent pins the swarm's content: the first info-hash the tracker reports (the seeders'
// own, since only they hold the publish token) is written to status.infoHash with the piece
// count, and never changes afterwards. A tracker that later reports another hash for the swarm
// (a replaced tracker fed by someone else) sets ContentMismatch and sends an Event; its peers'
// progress is another file's and is not used. It says whether the answer describes the pinned
// content.
func pinContent(p *pass, answer api.Swarm) bool {
	s := p.status
	switch {
	case !validInfoHash(answer.InfoHash):
		return false // not a tracker's answer about a torrent: nothing in it can be trusted
	case s.InfoHash == "":
		s.InfoHash, s.Pieces = answer.InfoHash, int32(answer.Pieces)
		p.record(corev1.EventTypeNormal, "ContentPinned", "Pin", "pinned info-hash %s (%d pieces)", s.InfoHash, s.Pieces)
	case answer.InfoHash != s.InfoHash:
		p.contentMismatch = true
		if !meta.IsStatusConditionTrue(s.Conditions, minibitv1alpha1.ConditionContentMismatch) {
			p.record(corev1.EventTypeWarning, ReasonContentMismatchEvent, "Pin",
				"the tracker reports info-hash %s for this swarm, not the pinned %s: its peers are ignored and new pods keep refusing other content",
				answer.InfoHash, s.InfoHash)
		}
		p.setCondition(minibitv1alpha1.ConditionContentMismatch, metav1.ConditionTrue, ReasonTrackerOtherContent,
			fmt.Sprintf("the tracker reports info-hash %s, not the pinned %s", answer.InfoHash, s.InfoHash))
		return false
	}
	if s.Pieces == 0 {
		s.Pieces = int32(answer.Pieces)
	}
	notePayload(p, answer)
	p.setCondition(minibitv1alpha1.ConditionContentMismatch, metav1.ConditionFalse, ReasonContentAsPinned,
		"the tracker reports the pinned info-hash")
	return true
}

// validInfoHash says whether h is a v1 info-hash in lower-case hex, as the API pins it.
func validInfoHash(h string) bool { return isLowerHex(h, 20) }

// validSHA256 says whether h is a SHA-256 in lower-case hex.
func validSHA256(h string) bool { return isLowerHex(h, 32) }

func isLowerHex(h string, n int) bool {
	if len(h) != 2*n {
		return false
	}
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	_, err := hex.DecodeString(h)
	return err == nil
}
