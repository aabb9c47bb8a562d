package api

// The v1 twin of a swarm (peer seed --v1-twin): its v1-only .torrent, for clients that know
// only BitTorrent v1 (aria2, Transmission 3.00), stored beside the swarm's own.
const (
	// TwinPathSuffix follows TorrentPathPrefix and a swarm's name: PUT stores the swarm's v1
	// twin, GET returns it (404 until a seeder with --v1-twin published it).
	TwinPathSuffix = "/v1-twin"
	// TwinNameSuffix follows a swarm's name to name its twin's stored torrent and swarm:
	// GET TorrentPathPrefix + name + TwinNameSuffix returns the twin too, and the JSON API lists
	// the twin's swarm (its v1-only clients and the MiniBit peers serving them) under that name.
	TwinNameSuffix = ".v1-twin"
)
