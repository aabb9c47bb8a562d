package tracker

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/anacrolix/torrent/bencode"

	"github.com/minibit-io/minibit/internal/tracker/protocol"
)

// This file is the announce endpoint (BEP 3, compact peers per BEP 23): a peer says who it is
// and how far it got, and the tracker answers with a sample of the other peers.

// maxNameLen bounds the MiniBit "name" announce parameter (a DNS name: 253 bytes).
const maxNameLen = 253

// handleAnnounce answers GET /announce. Every answer is HTTP 200 with a bencoded body; a bad
// request gets a "failure reason" that says what was wrong.
func (s *Server) handleAnnounce(w http.ResponseWriter, r *http.Request) {
	a, err := s.parseAnnounce(r)
	if err != nil {
		s.metrics.Announces.WithLabelValues("invalid", "failure").Inc()
		writeFailure(w, err.Error())
		return
	}
	event := a.event
	if event == "" {
		event = "none"
	}
	res, err := s.reg.announce(&a, s.cfg.Now(), make([]peerEntry, 0, a.numWant))
	if err != nil {
		s.metrics.Announces.WithLabelValues(event, "failure").Inc()
		s.countRefused("announce", err)
		s.log.Debug("Refused an announce", "infoHash", fmt.Sprintf("%x", a.infoHash), "addr", a.addr, "err", err)
		writeFailure(w, err.Error())
		return
	}
	s.metrics.Announces.WithLabelValues(event, "ok").Inc()
	writeBencode(w, s.answer(&a, &res))
}

// countRefused counts a request refused by a trust rule (an unregistered torrent, a peer id
// live at another IP); other errors are not counted here.
func (s *Server) countRefused(request string, err error) {
	switch {
	case errors.Is(err, errUnregistered):
		s.metrics.RequestsRefused.WithLabelValues(request, "unregistered").Inc()
	case errors.Is(err, errPeerElsewhere):
		s.metrics.RequestsRefused.WithLabelValues(request, "peer_id_elsewhere").Inc()
	}
}

// parseAnnounce reads and checks the query of an announce request. The peer's IP is the
// connection's (the TCP source address): the BEP 3 "ip" parameter is ignored, so that no peer
// can point others at a third party or pass for another peer, and the JSON API's IP is one an
// operator can match to a pod.
func (s *Server) parseAnnounce(r *http.Request) (announceParams, error) {
	var a announceParams
	if r.Method != http.MethodGet {
		return a, fmt.Errorf("method must be GET, not %s", r.Method)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return a, fmt.Errorf("malformed query: %w", err)
	}
	if a.infoHash, err = hash20(q, "info_hash"); err != nil {
		return a, err
	}
	if a.peerID, err = hash20(q, "peer_id"); err != nil {
		return a, err
	}
	port, err := intParam(q, "port", true, 1, 65535)
	if err != nil {
		return a, err
	}
	ip, err := remoteIP(r)
	if err != nil {
		return a, err
	}
	a.addr = netip.AddrPortFrom(ip, uint16(port))
	if err := parseTotals(q, &a); err != nil {
		return a, err
	}
	if a.event, err = eventParam(q); err != nil {
		return a, err
	}
	if err := s.parseAnswerOptions(q, &a); err != nil {
		return a, err
	}
	if a.name, err = nameParam(q); err != nil {
		return a, err
	}
	return a, parsePieceExtension(q, &a)
}

// parseTotals reads uploaded, downloaded and left: required, non-negative byte counts.
func parseTotals(q url.Values, a *announceParams) error {
	for _, f := range []struct {
		key string
		dst *int64
	}{{"uploaded", &a.uploaded}, {"downloaded", &a.downloaded}, {"left", &a.left}} {
		v, err := intParam(q, f.key, true, 0, 1<<62)
		if err != nil {
			return err
		}
		*f.dst = v
	}
	return nil
}

// parseAnswerOptions reads what shapes the answer: numwant (capped at MaxNumWant), compact
// (1 unless "0") and no_peer_id.
func (s *Server) parseAnswerOptions(q url.Values, a *announceParams) error {
	numWant, err := intParam(q, "numwant", false, 0, 1<<31-1)
	if err != nil {
		return err
	}
	a.numWant = s.cfg.DefaultNumWant
	if q.Has("numwant") {
		a.numWant = min(int(numWant), s.cfg.MaxNumWant)
	}
	switch c := q.Get("compact"); c {
	case "", "1":
		a.compact = true
	case "0":
	default:
		return fmt.Errorf("compact must be 0 or 1, got %q", c)
	}
	a.noPeerID = q.Get("no_peer_id") == "1"
	if a.event == "stopped" {
		a.numWant = 0
	}
	return nil
}

// hash20 reads a required 20-byte binary parameter (info_hash, peer_id).
func hash20(q url.Values, key string) ([20]byte, error) {
	var h [20]byte
	v, ok := q[key]
	switch {
	case !ok:
		return h, fmt.Errorf("missing %s", key)
	case len(v) > 1:
		return h, fmt.Errorf("%s given %d times", key, len(v))
	case len(v[0]) != len(h):
		return h, fmt.Errorf("%s must be 20 bytes, got %d", key, len(v[0]))
	}
	copy(h[:], v[0])
	return h, nil
}

// intParam reads a decimal parameter within [lo, hi]; a missing optional one is 0.
func intParam(q url.Values, key string, required bool, lo, hi int64) (int64, error) {
	text, ok := q[key]
	if !ok {
		if required {
			return 0, fmt.Errorf("missing %s", key)
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(text[0], 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be an integer from %d to %d, got %q", key, lo, hi, truncate(text[0], 32))
	}
	return n, nil
}

// eventParam reads the event: "started", "completed", "stopped" or empty (a heartbeat).
// BEP 21's "paused" is taken as a heartbeat.
func eventParam(q url.Values) (string, error) {
	switch e := q.Get("event"); e {
	case "", "started", "completed", "stopped":
		return e, nil
	case "paused":
		return "", nil
	default:
		return "", fmt.Errorf("unknown event %q", truncate(e, 32))
	}
}

// nameParam reads the MiniBit "name" extension: a pod or host name, at most 253 bytes of
// letters, digits, '.', '-' and '_'. Standard clients omit it.
func nameParam(q url.Values) (string, error) {
	name := q.Get("name")
	if len(name) > maxNameLen {
		return "", fmt.Errorf("name must be at most %d bytes, got %d", maxNameLen, len(name))
	}
	for i := range len(name) {
		if c := name[i]; !isNameByte(c) {
			return "", fmt.Errorf("name may hold only letters, digits, '.', '-' and '_', got %q", truncate(name, 64))
		}
	}
	return name, nil
}

// isNameByte reports whether c may appear in a name (of a peer or a stored torrent).
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

// remoteIP is the IP the request came from, IPv4-mapped IPv6 addresses unmapped.
func remoteIP(r *http.Request) (netip.Addr, error) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, errors.New("cannot tell the peer's address")
	}
	return ap.Addr().Unmap().WithZone(""), nil
}

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// answer is the bencoded answer's content: counts, intervals and the sampled peers, compact
// (IPv4 in "peers", IPv6 in "peers6") or as a list of dictionaries.
func (s *Server) answer(a *announceParams, res *announceResult) protocol.AnnounceDict {
	resp := protocol.AnnounceDict{
		Complete: res.complete, Incomplete: res.incomplete,
		Interval: seconds(s.cfg.Interval), MinInterval: seconds(s.cfg.MinInterval),
	}
	if a.compact {
		var v4 []byte
		for _, p := range res.peers {
			if p.addr.Addr().Is4() {
				v4 = protocol.AppendCompact(v4, p.addr)
			} else {
				resp.Peers6 = protocol.AppendCompact(resp.Peers6, p.addr)
			}
		}
		resp.Peers = v4
		if v4 == nil {
			resp.Peers = []byte{}
		}
		return resp
	}
	peers := make([]protocol.PeerDict, len(res.peers))
	for i, p := range res.peers {
		peers[i] = protocol.PeerDict{IP: p.addr.Addr().String(), Port: int(p.addr.Port())}
		if !a.noPeerID {
			peers[i].PeerID = p.id[:]
		}
	}
	resp.Peers = peers
	return resp
}

// seconds is d in whole seconds, rounded up, at least 1: announce intervals are integers.
func seconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}

// writeBencode writes v bencoded with HTTP 200.
func writeBencode(w http.ResponseWriter, v any) {
	body, err := bencode.Marshal(v)
	if err != nil {
		body, _ = bencode.Marshal(protocol.FailureDict{FailureReason: "internal error: cannot encode the answer"})
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// writeFailure writes a bencoded failure reason with HTTP 200, as BEP 3 asks.
func writeFailure(w http.ResponseWriter, reason string) {
	writeBencode(w, protocol.FailureDict{FailureReason: reason})
}
