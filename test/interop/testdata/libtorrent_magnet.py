"""Have libtorrent fetch a torrent by its v1 info-hash alone, as from a magnet link.

Usage (with Debian's /usr/bin/python3, for which python3-libtorrent is installed):

  libtorrent_magnet.py --info-hash HEX --announce URL --save DIR --info-out F [--timeout S]
      Add only the info-hash and the tracker (add_torrent_params from a magnet URI): libtorrent
      fetches the info dict from the peers the tracker gives (BEP 9), then downloads the
      content into DIR; once it seeds (every piece checked) it writes the info dict's bytes as
      it received them to F and exits 0.

The session is libtorrent_peer.py's (loopback only, no DHT or other discovery), so the only
source of the metadata is the swarm's peers. Exit status as libtorrent_peer.py's.
"""
import argparse
import signal
import sys
import time
import urllib.parse

from libtorrent_peer import EXIT_FAILED, lt, log, new_session, drain_alerts, run


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--info-hash", required=True, help="the v1 info-hash, 40 hex digits")
    p.add_argument("--announce", required=True)
    p.add_argument("--save", required=True)
    p.add_argument("--info-out", required=True)
    p.add_argument("--timeout", type=float, default=90)
    args = p.parse_args()
    deadline = time.monotonic() + args.timeout
    signal.alarm(int(args.timeout) + 10)
    ses = new_session(0)
    uri = "magnet:?xt=urn:btih:%s&tr=%s" % (args.info_hash, urllib.parse.quote(args.announce, safe=""))
    params = lt.parse_magnet_uri(uri)
    params.save_path = args.save
    log("adding %s" % uri)
    h = ses.add_torrent(params)
    status = run(ses, h, deadline, False)
    if status == 0:
        ti = h.torrent_file()
        if ti is None:
            log("failed: seeding without metadata")
            status = EXIT_FAILED
        else:
            with open(args.info_out, "wb") as f:
                f.write(ti.info_section())
            log("metadata of %s: %d bytes" % (ti.name(), len(ti.info_section())))
    ses.pause()
    drain_alerts(ses)
    return status


if __name__ == "__main__":
    sys.exit(main())
