package controllers

import (
	"math"
	"strings"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

// payloadStatus is status.payload from a tracker's answer about the pinned content: the file
// count, total size, content identity and piece size the tracker read from the published
// .torrent. It returns nil when the answer holds no torrent's summary or a value the API would
// refuse (the tracker's answer is a network peer's: it is checked, never trusted).
func payloadStatus(answer api.Swarm) *minibitv1alpha1.PayloadStatus {
	switch {
	case answer.Files <= 0 || answer.Files > math.MaxInt32, answer.PayloadBytes < 0,
		answer.PieceLength <= 0, !validInfoHash(answer.InfoHash), !validContentID(answer.ContentID):
		return nil
	}
	return &minibitv1alpha1.PayloadStatus{
		Files:      int32(answer.Files),
		TotalBytes: answer.PayloadBytes,
		ContentID:  answer.ContentID,
		InfoHash:   answer.InfoHash,
		PieceSize:  answer.PieceLength,
	}
}

// validContentID says whether id is "sha256:" and 64 lower-case hex digits.
func validContentID(id string) bool {
	h, ok := strings.CutPrefix(id, "sha256:")
	return ok && isLowerHex(h, 32)
}

// notePayload fills status.payload once the tracker describes the pinned content; the
// payload of pinned content never changes, so a filled one is kept.
func notePayload(p *pass, answer api.Swarm) {
	if p.status.Payload != nil || answer.InfoHash != p.status.InfoHash {
		return
	}
	p.status.Payload = payloadStatus(answer)
}
