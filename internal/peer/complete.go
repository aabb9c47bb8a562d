package peer

import (
	"fmt"
	"time"
)

// onComplete runs once, when every piece is verified: the .part file is synced and renamed to
// its final name, the whole file's SHA-256 is logged, Done is closed and the tracker hears
// "completed". downloaded is false for a seeder that started complete.
func (s *Session) onComplete(downloaded bool) {
	s.completeOnce.Do(func() {
		if err := s.verifyComplete(); err != nil {
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
		s.mu.Lock()
		s.complete = true
		for _, c := range s.conns {
			s.updateInterestLocked(c)
			if c.has.Count() == s.meta.NumPieces() {
				s.dialer.seedSeen(c.addr)
				c.close(errBothSeeds)
			}
		}
		s.mu.Unlock()
		if !downloaded {
			s.log.Info("Seeding", "file", s.cfg.Path)
			close(s.done)
			return
		}
		elapsed := time.Since(s.started)
		s.completedNanos.Store(int64(elapsed))
		s.mu.Lock()
		peers, top := s.sources.summary(5)
		s.mu.Unlock()
		s.log.Info("Pieces came from peers", "peers", peers, "top", top)
		if err := s.logFileHash(elapsed); err != nil {
			s.fail(err)
			return
		}
		close(s.done)
		if !s.cfg.ExitOnComplete { // Run announces it itself before exiting
			s.announcer.completed()
		}
	})
}

// verifyComplete runs Config.VerifyComplete on the complete file, before it takes its final name.
func (s *Session) verifyComplete() error {
	if s.cfg.VerifyComplete == nil {
		return nil
	}
	path := s.cfg.Path
	if s.store.inPart {
		path += partSuffix
	}
	if err := s.cfg.VerifyComplete(path); err != nil {
		return fmt.Errorf("peer: the complete file fails its check: %w", err)
	}
	return nil
}

// logFileHash logs the whole file's SHA-256, read back from disk, unless Config.NoFileHash.
func (s *Session) logFileHash(elapsed time.Duration) error {
	if s.cfg.NoFileHash {
		s.log.Info("download verified", "file", s.cfg.Path, "bytes", s.meta.Info.Length, "seconds", elapsed.Seconds())
		return nil
	}
	sum, err := s.store.sha256Hex()
	if err != nil {
		return err
	}
	s.log.Info("download verified sha256="+sum, "sha256", sum, "file", s.cfg.Path,
		"bytes", s.meta.Info.Length, "seconds", elapsed.Seconds())
	return nil
}
