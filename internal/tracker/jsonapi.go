package tracker

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

// This file is the JSON API (/api/v1/swarms): the state of every swarm and of each of its live
// peers, in the types of package api, for the operator and dashboards.

// handleSwarmList answers GET /api/v1/swarms: every swarm without its peers, sorted by name
// (unnamed swarms last) then info-hash.
func (s *Server) handleSwarmList(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.reg.swarmList(s.cfg.Now()))
}

// handleSwarm answers GET /api/v1/swarms/{key}, key being a stored torrent's name or a hex v1
// info-hash: the swarm with its live peers, or a 404 JSON error.
func (s *Server) handleSwarm(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	swarm, ok := s.reg.swarmByKey(key, s.cfg.Now(), true)
	if !ok {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no swarm named or hashed %q", truncate(key, 64)))
		return
	}
	writeJSON(w, http.StatusOK, swarm)
}

// swarmList summarizes every swarm.
func (r *registry) swarmList(now time.Time) api.SwarmList {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := api.SwarmList{Swarms: make([]api.SwarmSummary, 0, len(r.swarms))}
	for _, s := range r.swarms {
		list.Swarms = append(list.Swarms, r.swarmView(s, now, false).SwarmSummary)
	}
	slices.SortFunc(list.Swarms, func(a, b api.SwarmSummary) int {
		if c := compareNames(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.InfoHash, b.InfoHash)
	})
	return list
}

// compareNames orders names alphabetically with the empty name last.
func compareNames(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return strings.Compare(a, b)
}

// swarmByKey finds a swarm by hex v1 info-hash or by stored name and describes it, with its
// live peers when withPeers.
func (r *registry) swarmByKey(key string, now time.Time, withPeers bool) (api.Swarm, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.byName[key]
	if h, err := hex.DecodeString(key); err == nil && len(h) == 20 {
		if byHash := r.lookup([20]byte(h)); byHash != nil {
			s = byHash
		}
	}
	if s == nil {
		return api.Swarm{}, false
	}
	return r.swarmView(s, now, withPeers), true
}

// swarmView describes s and, when withPeers, its live peers sorted by peer id. Only live peers
// count; peers past their TTL that are not reaped yet are left out.
func (r *registry) swarmView(s *swarm, now time.Time, withPeers bool) api.Swarm {
	view := api.Swarm{SwarmSummary: api.SwarmSummary{
		InfoHash:  hex.EncodeToString(s.infoHash[:]),
		CreatedAt: s.createdAt,
		Completed: s.completed,
	}}
	view.StartedAt, view.LastCompletedAt = timeOrNil(s.firstLeecherAt), timeOrNil(s.lastCompletedAt)
	var length int64
	if t := s.torrent; t != nil {
		view.Name, view.Length, view.PieceLength, view.Pieces = t.name, t.length, t.pieceLength, t.pieces
		view.Files, view.PayloadBytes, view.ContentID = t.payload.files, t.payload.bytes, t.payload.contentID
		length = t.length
	}
	var progressSum float64
	var tracked, live int
	for _, p := range s.order {
		if !r.alive(p, now) {
			continue
		}
		live++
		pv := peerView(p, length)
		pv.PiecesHave = s.piecesHave(p)
		if pv.Seeder {
			view.Seeders++
		} else {
			view.Leechers++
		}
		view.UploadRate += pv.UploadRate
		view.DownloadRate += pv.DownloadRate
		if !pv.Seeder || pv.CompletedAt != nil { // initial seeders would hide the leechers' progress
			progressSum += pv.Progress
			tracked++
		}
		if withPeers {
			view.Peers = append(view.Peers, pv)
		}
	}
	view.Progress = swarmProgress(progressSum, tracked, live)
	if withPeers {
		view.Availability = s.availability(view.Seeders)
		if view.Availability != nil {
			view.AvailabilityPeers = view.Seeders + s.availPeers
		}
		if view.Peers == nil {
			view.Peers = []api.Peer{}
		}
		slices.SortFunc(view.Peers, func(a, b api.Peer) int { return strings.Compare(a.PeerID, b.PeerID) })
	}
	return view
}

// swarmProgress is the mean progress of the tracked peers (leechers and peers that completed);
// 1 when every live peer is an initial seeder, 0 for a swarm without live peers.
func swarmProgress(sum float64, tracked, live int) float64 {
	switch {
	case tracked > 0:
		return sum / float64(tracked)
	case live > 0:
		return 1
	default:
		return 0
	}
}

// peerView describes p; length is the file's size, 0 when unknown.
func peerView(p *peer, length int64) api.Peer {
	v := api.Peer{
		PeerID: hex.EncodeToString(p.id[:]), Name: p.name,
		IP: p.addr.Addr().String(), Port: int(p.addr.Port()),
		Left: p.left, Uploaded: p.uploaded, Downloaded: p.downloaded,
		UploadRate: p.uploadRate, DownloadRate: p.downloadRate,
		Seeder: p.left == 0, StartedAt: p.startedAt, LastSeen: p.lastSeen,
	}
	switch {
	case p.left == 0:
		v.Progress = 1
	case length > 0:
		v.Progress = max(0, 1-float64(p.left)/float64(length))
	}
	if !p.completedAt.IsZero() {
		at := p.completedAt
		v.CompletedAt = &at
	}
	if p.health != nil {
		h := *p.health
		v.Health = &h
	}
	return v
}

// payloadSummary is what the swarm summary shows of a stored torrent's payload.
type payloadSummary struct {
	files     int
	bytes     int64
	contentID string
}

// summarizePayload reads the payload's file count, size and content identity from a parsed
// torrent.
func summarizePayload(m *metainfo.MetaInfo) payloadSummary {
	return payloadSummary{files: len(m.Info.Files), bytes: m.PayloadBytes(), contentID: m.ContentID()}
}

// timeOrNil is &t, or nil for the zero time.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, "cannot encode the answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeJSONError writes {"error": msg} with the given status.
func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, api.ErrorBody{Error: msg})
}
