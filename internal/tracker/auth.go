package tracker

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"
)

// This file is the publish secret: with Config.PublishToken set, PUT /api/v1/torrents/{name}
// must carry "Authorization: Bearer <token>" (RFC 6750), so that only the holder of the secret
// (a swarm's seeders) can store the swarm's torrent, and the first store is the authentic one.

// Reasons of a refused upload (the reason label of minibit_tracker_torrent_uploads_refused_total).
const (
	refusedNoToken    = "missing_token"
	refusedWrongToken = "wrong_token"
)

// refusalLogInterval spaces out the log lines of refused uploads: a flood of them is one line
// per interval (the metric counts each).
const refusalLogInterval = 10 * time.Second

// publishAuth checks the bearer token of torrent uploads. It keeps only the token's SHA-256, and
// compares SHA-256 digests in constant time, so that neither the token's bytes nor its length
// show in the time a refusal takes.
type publishAuth struct {
	digest [sha256.Size]byte

	mu         sync.Mutex // owns the fields below
	lastLog    time.Time
	suppressed int // refusals not logged since lastLog
}

// newPublishAuth returns the check of token, or nil when token is empty (no check).
func newPublishAuth(token string) *publishAuth {
	if token == "" {
		return nil
	}
	return &publishAuth{digest: sha256.Sum256([]byte(token))}
}

// check returns "" when r carries the token, otherwise the refusal's reason.
func (a *publishAuth) check(r *http.Request) string {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return refusedNoToken
	}
	got := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(got[:], a.digest[:]) != 1 {
		return refusedWrongToken
	}
	return ""
}

// shouldLog reports whether a refusal at now is logged, and how many were not logged before it.
func (a *publishAuth) shouldLog(now time.Time) (bool, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.lastLog.IsZero() && now.Sub(a.lastLog) < refusalLogInterval {
		a.suppressed++
		return false, 0
	}
	n := a.suppressed
	a.lastLog, a.suppressed = now, 0
	return true, n
}

// authorizeUpload answers a torrent upload that lacks the publish token with 401 and reports
// false; it reports true when no token is configured or r carries it.
func (s *Server) authorizeUpload(w http.ResponseWriter, r *http.Request) bool {
	if s.auth == nil {
		return true
	}
	reason := s.auth.check(r)
	if reason == "" {
		return true
	}
	s.metrics.UploadsRefused.WithLabelValues(reason).Inc()
	if ok, suppressed := s.auth.shouldLog(s.cfg.Now()); ok {
		s.log.Warn("Refused a torrent upload without the publish token", "reason", reason,
			"name", truncate(r.PathValue("name"), 64), "remote", r.RemoteAddr, "refusedUnlogged", suppressed)
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="minibit-tracker"`)
	msg := "a torrent upload needs the publish token (Authorization: Bearer <token>)"
	if reason == refusedWrongToken {
		msg = "the publish token is wrong"
	}
	writeJSONError(w, http.StatusUnauthorized, msg)
	return false
}
