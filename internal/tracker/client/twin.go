package client

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"github.com/minibit-io/minibit/internal/tracker/api"
)

// This file is the v1 twin's side of the torrent store (peer seed --v1-twin): a seeder stores
// the v1-only twin of its swarm's torrent beside it, for v1-only clients to fetch.

// TwinPath is the path, relative to the tracker's base URL, of swarm name's v1 twin.
func TwinPath(name string) string {
	return api.TorrentPathPrefix + url.PathEscape(name) + api.TwinPathSuffix
}

// PublishTwin stores twin, the v1-only twin (metainfo.EncodeV1Twin) of the torrent stored
// under name, with the client's PublishToken. The torrent must be stored first (ErrNotFound
// otherwise); storing the same twin again succeeds; another torrent is refused (the tracker
// derives the twin itself and compares).
func (c *Client) PublishTwin(ctx context.Context, name string, twin []byte) error {
	return c.putTorrent(ctx, name+api.TwinNameSuffix, TwinPath(name), twin)
}

// FetchTwin returns the v1 twin of the swarm name, or ErrNotFound until a seeder published it.
func (c *Client) FetchTwin(ctx context.Context, name string) ([]byte, error) {
	return c.fetchTorrent(ctx, name+api.TwinNameSuffix, TwinPath(name))
}

// KeepTwinPublished stores twin again every interval until ctx ends, as KeepPublished does
// for the torrent itself.
func (c *Client) KeepTwinPublished(ctx context.Context, name string, twin []byte, interval time.Duration, log *slog.Logger) {
	keepPublishing(ctx, interval, log, "Could not publish the v1 twin again", name,
		func(ctx context.Context) error { return c.PublishTwin(ctx, name, twin) })
}
