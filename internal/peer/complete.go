package peer

import (
	"fmt"
	"strings"
	"time"

	"github.com/minibit-io/minibit/internal/peer/core"
)

// onComplete runs once, when every piece is verified: the whole file is checked against
// Config.WantSHA256 (when set), the .part file is synced and renamed to its final name,
// Config.BeforeDone runs, the whole file's SHA-256 is logged, Done is closed and the tracker
// hears "completed". downloaded
// is false for a seeder that started complete.
func (s *Session) onComplete(downloaded bool) {
	s.completeOnce.Do(func() {
		if err := s.writes.flush(); err != nil {
			return // the write-behind stopped the session with its error
		}
		sum, err := s.checkSHA256()
		if err != nil {
			s.fail(err)
			return
		}
		if downloaded {
			s.verifiedNanos.Store(int64(time.Since(s.started)))
		}
		if err := s.store.finish(); err != nil {
			s.fail(err)
			return
		}
		s.event(func(c *core.Core) { c.FileComplete(time.Now()) })
		if hook := s.cfg.BeforeDone; hook != nil {
			if err := hook(); err != nil {
				s.fail(err)
				return
			}
		}
		if !downloaded {
			s.log.Info("Seeding", "file", s.cfg.Path)
			close(s.done)
			return
		}
		elapsed := time.Since(s.started)
		s.completedNanos.Store(int64(elapsed))
		s.mu.Lock()
		peers, top := s.core.SourcesSummary(5)
		s.mu.Unlock()
		s.log.Info("Pieces came from peers", "peers", peers, "top", top)
		if err := s.logFileHash(sum, elapsed); err != nil {
			s.fail(err)
			return
		}
		close(s.done)
		if !s.cfg.ExitOnComplete { // Run announces it itself before exiting
			s.announcer.completed()
		}
	})
}

// checkSHA256 reads the complete file back (still .part after a download) and checks it against
// Config.WantSHA256; it returns the file's SHA-256, or "" when none is wanted.
func (s *Session) checkSHA256() (string, error) {
	if s.cfg.WantSHA256 == "" {
		return "", nil
	}
	if s.meta.MultiFile() {
		return "", fmt.Errorf("peer: a SHA-256 to check names one file; %s is a directory of %d files (each verified piece by piece)",
			s.cfg.Path, len(s.meta.Info.Files))
	}
	sum, err := s.store.sha256Hex()
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(sum, s.cfg.WantSHA256) {
		return "", fmt.Errorf("peer: the complete file's SHA-256 is %s, want %s", sum, s.cfg.WantSHA256)
	}
	s.log.Info("The file's SHA-256 is the one wanted", "sha256", sum)
	return sum, nil
}

// logFileHash logs the whole file's SHA-256 (sum, or read back from disk when sum is empty),
// unless Config.NoFileHash and no sum is known; a directory's content identity instead.
func (s *Session) logFileHash(sum string, elapsed time.Duration) error {
	if s.meta.MultiFile() { // every piece of every file is verified; a directory has no one SHA-256
		s.log.Info("download verified "+s.meta.ContentID(), "content", s.meta.ContentID(), "dir", s.cfg.Path,
			"files", len(s.meta.Info.Files), "bytes", s.meta.PayloadBytes(), "seconds", elapsed.Seconds())
		return nil
	}
	if sum == "" {
		if s.cfg.NoFileHash {
			s.log.Info("download verified", "file", s.cfg.Path, "bytes", s.meta.Info.Length, "seconds", elapsed.Seconds())
			return nil
		}
		var err error
		if sum, err = s.store.sha256Hex(); err != nil {
			return err
		}
	}
	s.log.Info("download verified sha256="+sum, "sha256", sum, "file", s.cfg.Path,
		"bytes", s.meta.Info.Length, "seconds", elapsed.Seconds())
	return nil
}
