package tracker

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"fmt"
	"net/http"

	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

// This file is the v1 twin's store (peer seed --v1-twin): PUT /api/v1/torrents/{name}/v1-twin
// stores the v1-only twin (metainfo.EncodeV1Twin) of the torrent stored under {name}, once its
// bytes equal the twin the tracker derives itself, so that nobody can hang another torrent on a
// swarm's name. The twin is then a stored torrent of its own, named {name}.v1-twin, with its own
// swarm (the v1-only clients and the MiniBit peers that serve them under the twin's
// info-hash): --registered-only admits its announces and scrapes, the reaper keeps it, and
// GET /api/v1/torrents/{name}/v1-twin (or .../{name}.v1-twin) returns it.

// errNotTwin refuses a twin that is not the one derived from the stored torrent.
var errNotTwin = errors.New("not the v1 twin of the stored torrent")

// handleTwinPut stores the request's body as the v1 twin of the torrent stored under {name}:
// 201 when stored, 200 when it already was, 404 when {name} holds no torrent, 400 when the body
// is not its twin, 409 when {name}.v1-twin holds another torrent; 401 as a torrent upload.
func (s *Server) handleTwinPut(w http.ResponseWriter, r *http.Request) {
	if !s.authorizeUpload(w, r) {
		return
	}
	name := r.PathValue("name")
	twinName := name + api.TwinNameSuffix
	if err := validTorrentName(twinName); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	data, ok := s.readTorrentBody(w, r)
	if !ok {
		return
	}
	created, status, err := s.putTwin(name, twinName, data)
	if err != nil {
		writeJSONError(w, status, err.Error())
		return
	}
	if created {
		status = http.StatusCreated
		s.log.Info("Stored a v1 twin", "name", twinName, "of", name)
	}
	summary, _ := s.reg.swarmByKey(twinName, s.cfg.Now(), false)
	writeJSON(w, status, summary.SwarmSummary)
}

// putTwin stores data as twinName, the twin of the torrent stored as name, once it is that
// torrent's twin; it returns whether it was new, or the HTTP status of the refusal.
func (s *Server) putTwin(name, twinName string, data []byte) (created bool, status int, err error) {
	if stored, ok := s.reg.torrent(twinName); ok {
		if bytes.Equal(stored, data) {
			return false, http.StatusOK, nil // the seeders publish it again every heartbeat
		}
		return false, http.StatusConflict, fmt.Errorf("%w: %q holds another torrent", errNameTaken, twinName)
	}
	hybrid := s.reg.storedTorrent(name)
	if hybrid == nil {
		return false, http.StatusNotFound, fmt.Errorf("no torrent named %q: publish it before its v1 twin", truncate(name, 64))
	}
	if len(data) < sha1.Size*hybrid.pieces { // cheap: the twin holds every v1 piece hash
		return false, http.StatusBadRequest, fmt.Errorf("%w %q: too short", errNotTwin, name)
	}
	m, err := metainfo.Parse(hybrid.data) // only for a body as long as a twin; a stored twin is compared above
	if err != nil {
		return false, http.StatusInternalServerError, fmt.Errorf("the stored torrent %q: %w", name, err)
	}
	want, hash, err := m.EncodeV1Twin()
	if err != nil {
		return false, http.StatusInternalServerError, err
	}
	if !bytes.Equal(want, data) {
		return false, http.StatusBadRequest, fmt.Errorf("%w %q", errNotTwin, name)
	}
	t := *hybrid // the same pieces and payload
	t.name, t.data, t.v2Alias = twinName, data, [20]byte{}
	created, err = s.reg.putTorrent(hash, &t, s.cfg.Now())
	if err != nil {
		return false, torrentErrorStatus(err), err
	}
	return created, http.StatusOK, nil
}

// handleTwinGet returns the v1 twin of the swarm {name}, or 404.
func (s *Server) handleTwinGet(w http.ResponseWriter, r *http.Request) {
	r.SetPathValue("name", r.PathValue("name")+api.TwinNameSuffix)
	s.handleTorrentGet(w, r)
}

// readTorrentBody reads a .torrent upload of at most MaxTorrentBytes, into one buffer of the
// announced Content-Length when it is within the bound (no doubling growth); on failure it
// answers (413 when too large, 400 otherwise) and returns false.
func (s *Server) readTorrentBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= s.cfg.MaxTorrentBytes {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.cfg.MaxTorrentBytes))
	if err == nil {
		return buf.Bytes(), true
	}
	status := http.StatusBadRequest
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		status = http.StatusRequestEntityTooLarge
	}
	writeJSONError(w, status, fmt.Sprintf("reading the torrent: %v", err))
	return nil, false
}

// storedTorrent is the torrent stored under name, nil when none.
func (r *registry) storedTorrent(name string) *storedTorrent {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.byName[name]; s != nil {
		return s.torrent
	}
	return nil
}
