"""Run one libtorrent peer on loopback for MiniBit's interop tests.

Usage (with Debian's /usr/bin/python3, for which python3-libtorrent is installed):

  libtorrent_peer.py leech --torrent T --save DIR [--timeout S] [--peer-timeout S]
      Download T into DIR; exit 0 once libtorrent seeds it (every piece checked).
  libtorrent_peer.py seed --torrent T --save DIR [--create FILE --piece-length N --announce URL]
                     [--timeout S]
      Seed the file of T from DIR. With --create, libtorrent first makes its own hybrid (v1+v2)
      torrent of FILE (which lies in DIR) announcing to URL, and writes it to T. Once the file
      is checked and seeded it prints "seeding PORT" on stdout, then seeds until its standard
      input closes.

The session listens on 127.0.0.1 only, with DHT, LSD, UPnP, NAT-PMP and uTP off, and allows
several connections per IP (every test peer is 127.0.0.1). Error, tracker and peer alerts go to
stderr. Exit status: 0 done, 1 a libtorrent error (or, leeching, a piece that failed its hash check),
2 timed out (SIGALRM kills it 10 s past the timeout), 3 libtorrent missing.
"""
import argparse
import os
import select
import signal
import sys
import time

try:
    import libtorrent as lt
except ImportError as exc:
    print("python libtorrent module missing (%s): apt-get install python3-libtorrent" % exc,
          file=sys.stderr)
    sys.exit(3)

EXIT_FAILED, EXIT_TIMEOUT = 1, 2

# Alerts worth seeing when an interop test fails.
ALERT_MASK = (lt.alert.category_t.error_notification
              | lt.alert.category_t.tracker_notification
              | lt.alert.category_t.peer_notification
              | lt.alert.category_t.connect_notification
              | lt.alert.category_t.status_notification)


def log(msg):
    print("libtorrent %.3f %s" % (time.monotonic(), msg), file=sys.stderr, flush=True)


def new_session(peer_timeout):
    """A session bound to loopback with every discovery and NAT feature off. A peer_timeout
    (seconds; 0 keeps libtorrent's 120) drops a peer silent for so long; libtorrent sends a
    keep-alive after half of it without sending anything."""
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": ALERT_MASK,
        "user_agent": "minibit-interop-libtorrent/" + lt.__version__,
    }
    if peer_timeout:
        settings["peer_timeout"] = peer_timeout
    return lt.session(settings)


def drain_alerts(ses):
    """Print pending alerts; return the first error alert's message, if any, else None."""
    fatal = None
    for a in ses.pop_alerts():
        log("%s: %s" % (type(a).__name__, a.message()))
        if isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
            fatal = fatal or a.message()
    return fatal


def describe(h):
    st = h.status()
    return ("state=%s progress=%.3f peers=%d seeds=%d down=%d up=%d failed=%d error=%r" %
            (st.state, st.progress, st.num_peers, st.num_seeds, st.total_payload_download,
             st.total_payload_upload, st.total_failed_bytes,
             st.errc.message() if st.errc.value() else ""))


def create_torrent(path, piece_length, announce, out):
    """Make libtorrent's own hybrid torrent of the file at path, announcing to announce."""
    parent, name = os.path.split(os.path.abspath(path))
    fs = lt.file_storage()
    fs.add_file(name, os.path.getsize(path))
    t = lt.create_torrent(fs, piece_length)  # hybrid v1+v2 is libtorrent 2.0's default
    t.add_tracker(announce)
    lt.set_piece_hashes(t, parent)
    with open(out, "wb") as f:
        f.write(lt.bencode(t.generate()))


def add_torrent(ses, torrent, save):
    try:
        info = lt.torrent_info(torrent)
    except RuntimeError as exc:
        raise SystemExit("libtorrent cannot load the torrent %s: %s" % (torrent, exc))
    log("adding %s v1=%s v2=%s trackers=%s" % (
        info.name(), info.info_hashes().v1, info.info_hashes().v2,
        [t.url for t in info.trackers()]))
    return ses.add_torrent({"ti": info, "save_path": save})


def stdin_closed():
    """Whether standard input reached its end (the Go test closes it to stop a seeder)."""
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    return bool(ready) and sys.stdin.buffer.read1(4096) == b""


def run(ses, h, deadline, seeding_then_wait):
    """Pump alerts until the torrent seeds (leech) or stdin closes after it seeds (seed)."""
    announced = False
    while time.monotonic() < deadline:
        ses.wait_for_alert(200)
        fatal = drain_alerts(ses)
        if fatal:
            log("failed: " + fatal)
            return EXIT_FAILED
        if not h.status().is_seeding:
            continue
        if not seeding_then_wait:
            log("download complete: " + describe(h))
            if h.status().total_failed_bytes:
                log("failed: some pieces did not pass the hash check")
                return EXIT_FAILED
            return 0
        if not announced:
            print("seeding %d" % ses.listen_port(), flush=True)
            log("seeding on port %d: %s" % (ses.listen_port(), describe(h)))
            announced = True
        if stdin_closed():
            log("stdin closed, stopping: " + describe(h))
            return 0
    log("timed out: " + describe(h))
    return EXIT_TIMEOUT


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["leech", "seed"])
    p.add_argument("--torrent", required=True)
    p.add_argument("--save", required=True)
    p.add_argument("--timeout", type=float, default=90)
    p.add_argument("--create", help="seed: make libtorrent's own torrent of this file first")
    p.add_argument("--piece-length", type=int, default=32 << 10)
    p.add_argument("--announce", help="with --create: the tracker's announce URL")
    p.add_argument("--peer-timeout", type=int, default=0,
                   help="libtorrent's peer_timeout in seconds (0: its default, 120)")
    args = p.parse_args()
    deadline = time.monotonic() + args.timeout
    signal.alarm(int(args.timeout) + 10)  # a hard stop even if libtorrent itself hangs
    if args.create:
        if args.mode != "seed" or not args.announce:
            p.error("--create needs seed mode and --announce")
        create_torrent(args.create, args.piece_length, args.announce, args.torrent)
    ses = new_session(args.peer_timeout)
    h = add_torrent(ses, args.torrent, args.save)
    status = run(ses, h, deadline, args.mode == "seed")
    ses.pause()
    drain_alerts(ses)
    return status


if __name__ == "__main__":
    sys.exit(main())
