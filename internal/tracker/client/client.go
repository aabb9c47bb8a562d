// Package client talks to a MiniBit (or any BEP 3) tracker for the peers and the operator:
// announces and scrapes, one peer's heartbeat loop (Announcer), the publish and fetch of a
// swarm's .torrent (with the peers' pin check), and the reads of the tracker's JSON API. It does
// not link the tracker's server.
package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/anacrolix/torrent/bencode"

	"github.com/minibit-io/minibit/internal/tracker/api"
	"github.com/minibit-io/minibit/internal/tracker/protocol"
)

// DefaultTimeout is the design note's network timeout: no request to the tracker waits longer
// than 10 s.
const DefaultTimeout = 10 * time.Second

// Bounds on what the client reads from a tracker.
const (
	maxAnnounceBody = 1 << 20
	maxScrapeBody   = 4 << 20
	maxJSONBody     = 16 << 20
)

// Errors of the client.
var (
	// ErrNotFound is returned when the tracker has no such torrent or swarm.
	ErrNotFound = errors.New("tracker: not found")
	// ErrConflict is returned when a name already holds another torrent.
	ErrConflict = errors.New("tracker: conflict")
	// ErrUnauthorized is returned when the tracker refuses a torrent upload for a missing or
	// wrong publish token.
	ErrUnauthorized = errors.New("tracker: unauthorized")
)

// FailureError is a "failure reason" the tracker answered an announce or scrape with.
type FailureError = protocol.FailureError

// Client talks to a MiniBit (or any BEP 3) tracker. It is safe for concurrent use.
type Client struct {
	// BaseURL is the tracker's URL, such as "http://tracker:8080"; an announce URL (ending in
	// "/announce") is accepted too.
	BaseURL string
	// HTTP sends the requests; nil uses a client with DefaultTimeout. Give it a Timeout.
	HTTP *http.Client
	// MaxTorrentBytes bounds a fetched .torrent; 0 means api.DefaultMaxTorrentBytes.
	MaxTorrentBytes int64
	// PublishToken, when not empty, is sent as "Authorization: Bearer <token>" with every torrent
	// upload (PublishTorrent, KeepPublished): the secret of a tracker started with
	// --publish-secret-file. Other requests never carry it.
	PublishToken string
}

// NewClient returns a client of the tracker at baseURL with the note's 10 s timeout.
func NewClient(baseURL string) *Client {
	return &Client{BaseURL: baseURL, HTTP: &http.Client{Timeout: DefaultTimeout}}
}

// AnnounceRequest is what a peer tells the tracker.
type AnnounceRequest struct {
	InfoHash [20]byte
	PeerID   [20]byte
	// Port is where the peer accepts connections; the tracker takes the IP from the connection.
	Port int
	// Uploaded, Downloaded and Left are byte totals since the peer started.
	Uploaded, Downloaded, Left int64
	// Event is "started", "completed", "stopped" or "" (a heartbeat).
	Event string
	// NumWant is the number of peers wanted; 0 lets the tracker choose (the note's 5).
	NumWant int
	// Name is the MiniBit extension: the pod or host name shown on the JSON API.
	Name string
	// Bitfield is the MiniBit extension behind the dashboard's piece map: the peer's BEP 3
	// bitfield (ceil(pieces/8) bytes, high bit first). Nil sends none; a seeder need not send it.
	Bitfield []byte
	// Health is the MiniBit extension that says how the peer's connections stand; nil sends none.
	Health *api.PeerHealth
}

// AnnounceResponse is the tracker's answer to an announce.
type AnnounceResponse = protocol.AnnounceResponse

// ScrapeStats are one swarm's counts in a scrape answer (BEP 48).
type ScrapeStats struct {
	// Complete and Incomplete count seeders and leechers; Downloaded the completed events.
	Complete, Incomplete, Downloaded int
	// Name is the stored torrent's name, empty when none.
	Name string
}

// Announce sends one announce and returns the tracker's answer; a failure reason is a
// *FailureError.
func (c *Client) Announce(ctx context.Context, req AnnounceRequest) (AnnounceResponse, error) {
	body, err := c.get(ctx, "/announce?"+announceQuery(&req), maxAnnounceBody)
	if err != nil {
		return AnnounceResponse{}, fmt.Errorf("tracker: announce: %w", err)
	}
	resp, err := protocol.DecodeAnnounce(body)
	if err != nil {
		return AnnounceResponse{}, fmt.Errorf("tracker: announce: %w", err)
	}
	return resp, nil
}

// announceQuery encodes req as BEP 3 query parameters, always asking for compact peers.
func announceQuery(req *AnnounceRequest) string {
	var b strings.Builder
	b.WriteString("info_hash=" + escapeBinary(req.InfoHash[:]))
	b.WriteString("&peer_id=" + escapeBinary(req.PeerID[:]))
	b.WriteString("&port=" + strconv.Itoa(req.Port))
	b.WriteString("&uploaded=" + strconv.FormatInt(req.Uploaded, 10))
	b.WriteString("&downloaded=" + strconv.FormatInt(req.Downloaded, 10))
	b.WriteString("&left=" + strconv.FormatInt(req.Left, 10))
	b.WriteString("&compact=1")
	if req.Event != "" {
		b.WriteString("&event=" + url.QueryEscape(req.Event))
	}
	if req.NumWant > 0 {
		b.WriteString("&numwant=" + strconv.Itoa(req.NumWant))
	}
	if req.Name != "" {
		b.WriteString("&name=" + url.QueryEscape(req.Name))
	}
	if req.Bitfield != nil {
		b.WriteString("&bitfield=" + base64.RawURLEncoding.EncodeToString(req.Bitfield))
	}
	if h := req.Health; h != nil {
		fmt.Fprintf(&b, "&connected=%d&choked_by=%d&bans=%d&hash_failures=%d", h.Connected, h.ChokedBy, h.Bans, h.HashFailures)
	}
	return b.String()
}

// escapeBinary percent-encodes every byte of p but RFC 3986's unreserved characters, as
// trackers expect of info_hash and peer_id (a space is "%20", never "+").
func escapeBinary(p []byte) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(3 * len(p))
	for _, c := range p {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// Scrape returns the counts of the given swarms (BEP 48), or of all swarms when none is given.
// Swarms the tracker does not know are absent from the map.
func (c *Client) Scrape(ctx context.Context, hashes ...[20]byte) (map[[20]byte]ScrapeStats, error) {
	params := make([]string, len(hashes))
	for i, h := range hashes {
		params[i] = "info_hash=" + escapeBinary(h[:])
	}
	body, err := c.get(ctx, "/scrape?"+strings.Join(params, "&"), maxScrapeBody)
	if err != nil {
		return nil, fmt.Errorf("tracker: scrape: %w", err)
	}
	var reply protocol.ScrapeDict
	if err := bencode.Unmarshal(body, &reply); err != nil {
		return nil, fmt.Errorf("tracker: scrape: malformed answer: %w", err)
	}
	if reply.FailureReason != "" {
		return nil, &FailureError{Reason: reply.FailureReason}
	}
	stats := make(map[[20]byte]ScrapeStats, len(reply.Files))
	for key, f := range reply.Files {
		if len(key) != 20 {
			return nil, fmt.Errorf("tracker: scrape: info-hash of %d bytes", len(key))
		}
		stats[[20]byte([]byte(key))] = ScrapeStats{Complete: f.Complete, Incomplete: f.Incomplete,
			Downloaded: f.Downloaded, Name: f.Name}
	}
	return stats, nil
}

// PublishTorrent stores torrent (a .torrent file's bytes) under name, with the client's
// PublishToken. Storing the same torrent again succeeds; a name that holds another torrent is
// ErrConflict, a missing or wrong token ErrUnauthorized.
func (c *Client) PublishTorrent(ctx context.Context, name string, torrent []byte) error {
	return c.putTorrent(ctx, name, api.TorrentPathPrefix+url.PathEscape(name), torrent)
}

// putTorrent PUTs torrent, the .torrent of the swarm name, to path with the PublishToken.
func (c *Client) putTorrent(ctx context.Context, name, path string, torrent []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base()+path, bytes.NewReader(torrent))
	if err != nil {
		return fmt.Errorf("tracker: publish %q: %w", name, err)
	}
	req.Header.Set("Content-Type", "application/x-bittorrent")
	if c.PublishToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.PublishToken)
	}
	if _, err := c.do(req, maxJSONBody); err != nil {
		return fmt.Errorf("tracker: publish %q: %w", name, err)
	}
	return nil
}

// FetchTorrent returns the .torrent stored under name, or ErrNotFound.
func (c *Client) FetchTorrent(ctx context.Context, name string) ([]byte, error) {
	return c.fetchTorrent(ctx, name, api.TorrentPathPrefix+url.PathEscape(name))
}

// fetchTorrent GETs the .torrent of the swarm name at path, of at most MaxTorrentBytes.
func (c *Client) fetchTorrent(ctx context.Context, name, path string) ([]byte, error) {
	limit := c.MaxTorrentBytes
	if limit <= 0 {
		limit = api.DefaultMaxTorrentBytes
	}
	body, err := c.get(ctx, path, limit)
	if err != nil {
		return nil, fmt.Errorf("tracker: fetch torrent %q: %w", name, err)
	}
	return body, nil
}

// Swarm returns one swarm with its live peers, by stored name or hex v1 info-hash, or
// ErrNotFound.
func (c *Client) Swarm(ctx context.Context, nameOrHash string) (api.Swarm, error) {
	var swarm api.Swarm
	err := c.getJSON(ctx, api.SwarmPathPrefix+url.PathEscape(nameOrHash), &swarm)
	if err != nil {
		return api.Swarm{}, fmt.Errorf("tracker: swarm %q: %w", nameOrHash, err)
	}
	return swarm, nil
}

// Swarms returns every swarm without its peers.
func (c *Client) Swarms(ctx context.Context) (api.SwarmList, error) {
	var list api.SwarmList
	if err := c.getJSON(ctx, api.SwarmsPath, &list); err != nil {
		return api.SwarmList{}, fmt.Errorf("tracker: swarms: %w", err)
	}
	return list, nil
}

// getJSON GETs path and decodes its JSON answer into v.
func (c *Client) getJSON(ctx context.Context, path string, v any) error {
	body, err := c.get(ctx, path, maxJSONBody)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("malformed answer: %w", err)
	}
	return nil
}

// get GETs path (relative to the base URL) and returns a body of at most limit bytes.
func (c *Client) get(ctx context.Context, path string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base()+path, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req, limit)
}

// do sends req and returns the body of a 2xx answer (at most limit bytes). Other statuses are
// errors: 401 wraps ErrUnauthorized, 404 ErrNotFound and 409 ErrConflict, with the API's error
// message.
func (c *Client) do(req *http.Request, limit int64) ([]byte, error) {
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("answer larger than %d bytes", limit)
	}
	if resp.StatusCode/100 != 2 {
		return nil, statusError(resp.StatusCode, body)
	}
	return body, nil
}

// statusError describes a non-2xx answer, with the API's {"error": ...} message when present.
func statusError(status int, body []byte) error {
	var e api.ErrorBody
	msg := http.StatusText(status)
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	switch status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w: %s", ErrUnauthorized, msg)
	case http.StatusNotFound:
		return fmt.Errorf("%w: %s", ErrNotFound, msg)
	case http.StatusConflict:
		return fmt.Errorf("%w: %s", ErrConflict, msg)
	default:
		return fmt.Errorf("HTTP %d: %s", status, msg)
	}
}

// base is the tracker's base URL without a trailing "/" or "/announce".
func (c *Client) base() string {
	return strings.TrimSuffix(strings.TrimSuffix(c.BaseURL, "/"), "/announce")
}

// httpClient is c.HTTP or a client with DefaultTimeout.
func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTPClient
}

// defaultHTTPClient serves clients without their own: the note's 10 s timeout.
var defaultHTTPClient = &http.Client{Timeout: DefaultTimeout}

// KeepPublished stores torrent under name again every interval until ctx ends, so that a
// tracker restarted without its state (a replaced pod) learns the swarm's name again. A PUT of
// the same torrent is idempotent; failures are logged and retried at the next interval.
func (c *Client) KeepPublished(ctx context.Context, name string, torrent []byte, interval time.Duration, log *slog.Logger) {
	keepPublishing(ctx, interval, log, "Could not publish the torrent again", name,
		func(ctx context.Context) error { return c.PublishTorrent(ctx, name, torrent) })
}

// keepPublishing calls publish every interval until ctx ends, logging msg with its failures.
func keepPublishing(ctx context.Context, interval time.Duration, log *slog.Logger, msg, name string,
	publish func(context.Context) error) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if err := publish(ctx); err != nil && ctx.Err() == nil {
			log.Warn(msg, "swarm", name, "err", err)
		}
	}
}
