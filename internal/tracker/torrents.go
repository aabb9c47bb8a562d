package tracker

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// This file is the torrent store: PUT /api/v1/torrents/{name} keeps a .torrent under a name and
// GET returns it, so that a peer can start from the tracker's URL and a swarm's name alone.

// Errors of the torrent store.
var (
	errNameTaken  = errors.New("another torrent is stored under this name")
	errHashStored = errors.New("this torrent is already stored under another name")
	errStoreFull  = errors.New("the torrent store is full")
)

// storedTorrent is a validated .torrent file and what the swarm summary shows of it.
type storedTorrent struct {
	name        string
	data        []byte
	length      int64
	pieceLength int64
	pieces      int
	payload     payloadSummary
	v2Alias     [20]byte // the truncated v2 info-hash, another key of the same swarm
}

// handleTorrentPut stores the request's .torrent under {name}: 201 when stored, 200 when the
// same torrent already was, 409 when the name holds another torrent or the torrent another name;
// 401, before the body is read, when a publish token is configured and the request lacks it.
func (s *Server) handleTorrentPut(w http.ResponseWriter, r *http.Request) {
	if !s.authorizeUpload(w, r) {
		return
	}
	name := r.PathValue("name")
	if err := validTorrentName(name); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	data, ok := s.readTorrentBody(w, r)
	if !ok {
		return
	}
	// A seeder republishes its torrent every heartbeat: the same bytes under the same name are
	// answered without parsing them again (tens of MB for a payload of hundreds of GiB).
	if old := s.reg.storedTorrent(name); old != nil && bytes.Equal(old.data, data) {
		summary, _ := s.reg.swarmByKey(name, s.cfg.Now(), false)
		writeJSON(w, http.StatusOK, summary.SwarmSummary)
		return
	}
	m, err := metainfo.Parse(data)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("not a valid .torrent: %v", err))
		return
	}
	v2 := m.InfoHashV2()
	t := &storedTorrent{name: name, data: data, length: m.Info.Length,
		pieceLength: m.Info.PieceLength, pieces: m.NumPieces(), payload: summarizePayload(m), v2Alias: [20]byte(v2[:20])}
	created, err := s.reg.putTorrent(m.InfoHashV1(), t, s.cfg.Now())
	if err != nil {
		writeJSONError(w, torrentErrorStatus(err), err.Error())
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.log.Info("Stored a torrent", "name", name, "infoHash", fmt.Sprintf("%x", m.InfoHashV1()),
			"length", m.Info.Length, "pieces", t.pieces)
	}
	summary, _ := s.reg.swarmByKey(name, s.cfg.Now(), false)
	writeJSON(w, status, summary.SwarmSummary)
}

// torrentErrorStatus is the HTTP status of a torrent store error.
func torrentErrorStatus(err error) int {
	switch {
	case errors.Is(err, errNameTaken), errors.Is(err, errHashStored):
		return http.StatusConflict
	case errors.Is(err, errStoreFull):
		return http.StatusInsufficientStorage
	case errors.Is(err, errTooManySwarms):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// handleTorrentGet returns the .torrent stored under {name}, or 404.
func (s *Server) handleTorrentGet(w http.ResponseWriter, r *http.Request) {
	data, ok := s.reg.torrent(r.PathValue("name"))
	if !ok {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no torrent named %q", truncate(r.PathValue("name"), 64)))
		return
	}
	w.Header().Set("Content-Type", "application/x-bittorrent")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// validTorrentName checks a store name: 1 to 253 letters, digits, '.', '-' or '_'.
func validTorrentName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("a torrent name must be 1 to %d bytes, got %d", maxNameLen, len(name))
	}
	for i := range len(name) {
		if !isNameByte(name[i]) {
			return fmt.Errorf("a torrent name may hold only letters, digits, '.', '-' and '_', got %q", truncate(name, 64))
		}
	}
	return nil
}

// putTorrent stores t for the swarm infoHash, creating the swarm if needed. It reports whether
// t was new; storing the same torrent under the same name again changes nothing.
func (r *registry) putTorrent(infoHash [20]byte, t *storedTorrent, now time.Time) (created bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.byName[t.name]; s != nil {
		if s.infoHash != infoHash {
			return false, fmt.Errorf("%w: %q holds %x", errNameTaken, t.name, s.infoHash)
		}
		return false, nil
	}
	s := r.swarms[infoHash]
	if s != nil && s.torrent != nil {
		return false, fmt.Errorf("%w: %q", errHashStored, s.torrent.name)
	}
	if r.stored+int64(len(t.data)) > r.maxStored {
		return false, fmt.Errorf("%w: %d bytes stored", errStoreFull, r.stored)
	}
	if s == nil {
		if s, err = r.addSwarm(infoHash, now); err != nil {
			return false, err
		}
	}
	s.torrent = t
	r.byName[t.name] = s
	if t.v2Alias != ([20]byte{}) {
		r.aliases[t.v2Alias] = infoHash
	}
	r.stored += int64(len(t.data))
	return true, nil
}

// torrent returns the .torrent stored under name.
func (r *registry) torrent(name string) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.byName[name]; s != nil {
		return s.torrent.data, true
	}
	return nil, false
}
