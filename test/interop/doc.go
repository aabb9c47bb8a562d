// Package interop checks that MiniBit trades pieces with a stock BitTorrent client: libtorrent
// (Debian's python3-libtorrent, driven by testdata/libtorrent_peer.py) downloads from a MiniBit
// seeder, over the v1 and the v2 handshake, and seeds to a MiniBit leecher, through the MiniBit
// tracker; the two clients also trade in a mixed swarm and keep an idle connection alive, all on
// 127.0.0.1. libtorrent also trades directories (multi-file torrents with pad files, theirs and
// ours) and fetches a torrent's metadata from a MiniBit seeder by BEP 9 given only its
// info-hash. The v1-only clients aria2 1.36 and Transmission 3.00 download from and seed to
// MiniBit through a swarm's v1 twin (docs/v1-twin.md). The package holds only tests and
// benchmarks: `go test ./test/interop/`.
package interop
