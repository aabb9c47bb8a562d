package tracker

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/minibit-io/minibit/internal/tracker/protocol"
)

// This file is the scrape endpoint (BEP 48): the counts of one, many or all swarms, without
// their peers.

// maxScrapeHashes bounds the info_hash parameters of one scrape.
const maxScrapeHashes = 256

// scrapeEntry is one swarm's scrape counts.
type scrapeEntry struct {
	infoHash                        [20]byte
	complete, incomplete, completed int
	name                            string
}

// handleScrape answers GET /scrape with the counts of each info_hash the tracker knows (unknown
// ones are left out, or refused with Config.RegisteredOnly) or of every swarm when none is
// given. Bad requests get a failure reason.
func (s *Server) handleScrape(w http.ResponseWriter, r *http.Request) {
	s.metrics.ScrapeRequests.Inc()
	hashes, err := parseScrape(r)
	if err != nil {
		writeFailure(w, err.Error())
		return
	}
	entries, err := s.reg.scrape(hashes)
	if err != nil {
		s.countRefused("scrape", err)
		writeFailure(w, err.Error())
		return
	}
	writeBencode(w, scrapeAnswer(entries))
}

// parseScrape reads the info_hash parameters of a scrape (none means all).
func parseScrape(r *http.Request) ([][20]byte, error) {
	if r.Method != http.MethodGet {
		return nil, fmt.Errorf("method must be GET, not %s", r.Method)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("malformed query: %w", err)
	}
	values := q["info_hash"]
	if len(values) > maxScrapeHashes {
		return nil, fmt.Errorf("at most %d info_hash per scrape, got %d", maxScrapeHashes, len(values))
	}
	hashes := make([][20]byte, len(values))
	for i, v := range values {
		if len(v) != 20 {
			return nil, fmt.Errorf("info_hash must be 20 bytes, got %d", len(v))
		}
		copy(hashes[i][:], v)
	}
	return hashes, nil
}

// scrape returns the counts of the given swarms that exist, or of all swarms when hashes is
// empty. With registeredOnly, a hash without a stored torrent fails the whole scrape.
func (r *registry) scrape(hashes [][20]byte) ([]scrapeEntry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.registeredOnly {
		for _, h := range hashes {
			if s := r.lookup(h); s == nil || s.torrent == nil {
				return nil, errUnregistered
			}
		}
	}
	var entries []scrapeEntry
	add := func(key [20]byte, s *swarm) {
		e := scrapeEntry{infoHash: key, complete: s.seeders,
			incomplete: len(s.order) - s.seeders, completed: s.completed}
		if s.torrent != nil {
			e.name = s.torrent.name
		}
		entries = append(entries, e)
	}
	if len(hashes) == 0 {
		for _, s := range r.swarms {
			add(s.infoHash, s)
		}
	}
	for _, h := range hashes {
		if s := r.lookup(h); s != nil {
			add(h, s)
		}
	}
	return entries, nil
}

// scrapeAnswer is the scrape answer's content: "files", from each 20-byte info-hash to its
// counts and (when stored) name.
func scrapeAnswer(entries []scrapeEntry) protocol.ScrapeDict {
	resp := protocol.ScrapeDict{Files: make(map[string]protocol.ScrapeFileDict, len(entries))}
	for _, e := range entries {
		resp.Files[string(e.infoHash[:])] = protocol.ScrapeFileDict{Complete: e.complete, Downloaded: e.completed,
			Incomplete: e.incomplete, Name: e.name}
	}
	return resp
}
