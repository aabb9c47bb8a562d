package peer

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/client"
)

// announcer connects the session to the tracker's heartbeat loop (client.Announcer): the
// producer side of the note's producer-consumer pattern, whose peer batches the dialer consumes.
// A nil *announcer (no tracker configured) does nothing.
type announcer struct {
	a    *client.Announcer
	s    *Session
	twin *client.Announcer // the same heartbeat under the v1 twin's info-hash; nil without (twin.go)
}

// newAnnouncer builds the heartbeat loop for s, or returns nil when no tracker is configured.
func (s *Session) newAnnouncer() (*announcer, error) {
	if s.cfg.TrackerURL == "" {
		return nil, nil
	}
	c := client.NewClient(s.cfg.TrackerURL)
	c.HTTP.Timeout = s.cfg.Timeout
	if local := s.localTCPAddr(); local != nil { // the tracker takes our IP from the connection
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: s.cfg.Timeout, LocalAddr: local}).DialContext
		c.HTTP.Transport = tr
	}
	cfg := client.AnnouncerConfig{
		Client:   c,
		InfoHash: s.infoHashV1,
		PeerID:   s.cfg.PeerID,
		Port:     int(s.Addr().Port()),
		Name:     s.cfg.Name,
		NumWant:  s.cfg.NumWant,
		Stats:    s.announceTotals,
		Bitfield: s.haveBitfield,
		Health:   s.announceHealth,
		Logger:   s.log,
	}
	a, err := client.NewAnnouncer(cfg)
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	twin, err := s.newTwinAnnouncer(cfg)
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	return &announcer{a: a, s: s, twin: twin}, nil
}

// announceTotals are the byte totals each announce carries.
func (s *Session) announceTotals() (uploaded, downloaded, left int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left = s.core.BytesLeft()
	if left == 0 && !s.isDone() {
		left = 1 // every piece is verified, the file is not finished yet (SHA-256, rename, BeforeDone)
	}
	n := s.core.Counters()
	return n.BytesUploaded, n.BytesDownloaded, left
}

// haveBitfield is a copy of our verified pieces, sent with announces (a MiniBit extension) so
// that the tracker's dashboard can draw how the pieces are spread.
func (s *Session) haveBitfield() []byte { return s.HaveBitfield() }

// announceHealth is what this peer reports of its connections with each announce.
func (s *Session) announceHealth() api.PeerHealth {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.core.Snapshot(time.Now())
	return api.PeerHealth{
		Bans: s.bans.Total(), HashFailures: snap.Counters.HashFailures,
		Connected: snap.Conns, ChokedBy: snap.ChokedBy,
	}
}

// run drives the heartbeat (and the twin's) until the session ends (then "stopped" is
// announced) and hands every batch of peers to the dialer.
func (an *announcer) run(s *Session) {
	if an == nil {
		return
	}
	if an.twin != nil {
		s.goRun(func() { an.relay(s, an.twin, true) })
	}
	an.relay(s, an.a, false)
}

// relay drives one heartbeat loop, the torrent's or the twin's, until the session ends and
// hands every batch of peers to the dialer.
func (an *announcer) relay(s *Session, a *client.Announcer, twin bool) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Run(s.ctx)
	}()
	for {
		select {
		case peers := <-a.Peers():
			s.twin.learn(peers, twin)
			s.dialer.add(peers)
			s.trackerRetries.Store(an.a.Retries())
		case <-done:
			s.trackerRetries.Store(an.a.Retries())
			return
		}
	}
}

// completed sends the "completed" announce once, in the background (retried with the note's
// backoff): a peer that stays up to seed need not wait for it.
func (an *announcer) completed() {
	if an != nil {
		an.s.goRun(func() { an.completedNow(an.s.ctx, an.s) })
	}
}

// completedNow announces "completed" at once and waits for the answer (retried with the note's
// backoff): a peer about to exit (ExitOnComplete) must not lose it to its own shutdown.
func (an *announcer) completedNow(ctx context.Context, s *Session) {
	if an == nil {
		return
	}
	for _, a := range []*client.Announcer{an.a, an.twin} {
		if a == nil {
			continue
		}
		if err := a.Completed(ctx); err != nil {
			s.log.Warn("Could not announce completed", "err", err)
		}
	}
}
