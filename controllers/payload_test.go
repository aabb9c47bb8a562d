package controllers

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/swarmtest"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

// status.payload takes the tracker's summary only when every value is one the API accepts: a
// hostile or old tracker's answer leaves it unset instead of failing the status write.
func TestPayloadStatusFromTheTracker(t *testing.T) {
	contentID := "sha256:" + strings.Repeat("c", 64)
	good := api.Swarm{SwarmSummary: api.SwarmSummary{InfoHash: hashA, Files: 3, PayloadBytes: 1 << 30,
		ContentID: contentID, PieceLength: 1 << 20}}
	want := &minibitv1alpha1.PayloadStatus{Files: 3, TotalBytes: 1 << 30, ContentID: contentID, InfoHash: hashA, PieceSize: 1 << 20}
	if diff := cmp.Diff(want, payloadStatus(good)); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	bad := map[string]func(*api.Swarm){
		"an old tracker without files":   func(s *api.Swarm) { s.Files = 0 },
		"more files than an int32":       func(s *api.Swarm) { s.Files = math.MaxInt32 + 1 },
		"a negative size":                func(s *api.Swarm) { s.PayloadBytes = -1 },
		"no piece length":                func(s *api.Swarm) { s.PieceLength = 0 },
		"a content id of another hash":   func(s *api.Swarm) { s.ContentID = "sha1:" + strings.Repeat("c", 40) },
		"a content id in upper case":     func(s *api.Swarm) { s.ContentID = "sha256:" + strings.Repeat("C", 64) },
		"a content id with a line break": func(s *api.Swarm) { s.ContentID = contentID + "\n" },
		"an info-hash that is not one":   func(s *api.Swarm) { s.InfoHash = "zz" },
	}
	for name, mutate := range bad {
		answer := good
		mutate(&answer)
		if got := payloadStatus(answer); got != nil {
			t.Errorf("%s: payload %+v, want none", name, got)
		}
	}
}

// The payload is noted for the pinned content only, once.
func TestNotePayload(t *testing.T) {
	answer := api.Swarm{SwarmSummary: api.SwarmSummary{InfoHash: hashA, Files: 1, PayloadBytes: 10,
		ContentID: "sha256:" + strings.Repeat("c", 64), PieceLength: 16 << 10}}
	p := newPass(swarmtest.MakeSwarm("demo", "ns").Status(minibitv1alpha1.SwarmStatus{InfoHash: hashB}).Obj(), t0)
	notePayload(p, answer)
	if p.status.Payload != nil {
		t.Errorf("payload of another info-hash noted: %+v", p.status.Payload)
	}
	p = newPass(swarmtest.MakeSwarm("demo", "ns").Status(minibitv1alpha1.SwarmStatus{InfoHash: hashA}).Obj(), t0)
	notePayload(p, answer)
	if p.status.Payload == nil || p.status.Payload.TotalBytes != 10 {
		t.Fatalf("payload not noted: %+v", p.status.Payload)
	}
	answer.PayloadBytes = 20
	notePayload(p, answer)
	if p.status.Payload.TotalBytes != 10 {
		t.Errorf("a noted payload changed: %+v", p.status.Payload)
	}
}

// Generated content whose .torrent peers would not fetch is refused before any pod starts;
// Auto pieces make the same size fit.
func TestGeneratedContentTooLargeForItsPieces(t *testing.T) {
	refusal := func(s *minibitv1alpha1.Swarm) string { return staticSourceRefusal(newPass(s, t0)) }
	if got := refusal(swarmtest.MakeSwarm("demo", "ns").Generate("1Ti", 1).Obj()); !strings.Contains(got, "use a larger pieceSize, or Auto") {
		t.Errorf("1Ti in 256 KiB pieces: refusal %q", got)
	}
	if got := refusal(swarmtest.MakeSwarm("demo", "ns").Generate("1Ti", 1).PieceSize("Auto").Obj()); got != "" {
		t.Errorf("1Ti in Auto pieces refused: %q", got)
	}
	if got := refusal(swarmtest.MakeSwarm("demo", "ns").Generate("64Gi", 1).Obj()); got != "" {
		t.Errorf("64Gi in 256 KiB pieces refused: %q", got)
	}
}
