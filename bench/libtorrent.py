"""One libtorrent 2.0 swarm of the lab (bench/libtorrent.go runs it with /usr/bin/python3).

Usage: libtorrent.py CONFIG.json

CONFIG holds: torrent (the .torrent path), tracker (announce URL), seeder_dir (the directory
holding the source payload), seeder_cap, leecher_dirs (one directory per leecher),
leecher_caps, super_seed, timeout (seconds). Every peer is its own lt.session on 127.0.0.1,
in this one process (libtorrent's work runs in its own threads, outside Python's lock).

Before the clock starts the seeder checks its payload (as MiniBit's trusted seeder, it then
holds every piece) and every leecher session is created. Then stdout gets JSON lines:

  {"start": true}                                   the clock starts (t = 0)
  {"t": T, "cpu_ns": C, "peers": [{"u": UP, "d": DOWN, "p": PIECES, "b": "HEX"}, ...]}
        every 100 ms: per peer ([0] the seeder) its total payload uploaded and downloaded,
        pieces held and, when that count changed since its last line, its bitfield in hex
        (most significant bit first; no "b" otherwise); C is this process's CPU time (user +
        system, all threads) since the start
  {"done": I, "t": T, "verified_t": V}              leecher I (1-based) finished: V when its last
        piece passed the hash check, T once its disk cache was flushed and its files fsynced
  {"end": T, "cpu_ns": C}                           every leecher done (or timed out), last line
  {"error": "..."}                                  a libtorrent error; the run is over

Exit status: 0 done, 1 a libtorrent error, 2 timed out, 3 libtorrent missing.
"""
import json
import os
import resource
import select
import sys
import threading
import time

try:
    import libtorrent as lt
except ImportError as exc:
    print("python libtorrent module missing (%s): apt-get install python3-libtorrent" % exc,
          file=sys.stderr)
    sys.exit(3)

EXIT_FAILED, EXIT_TIMEOUT = 1, 2
SAMPLE_INTERVAL = 0.1
ALERTS = (lt.alert.category_t.status_notification | lt.alert.category_t.error_notification
          | lt.alert.category_t.storage_notification)
OUT = threading.Lock()


def emit(obj):
    line = json.dumps(obj, separators=(",", ":"))
    with OUT:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def cpu_ns():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


def new_session(cap):
    """A loopback session, TCP only, capped at cap bytes/s of upload (0: uncapped).

    libtorrent puts peers on local networks (127.0.0.0/8 included) in its local peer class,
    which has no rate limit and ignores the unchoke slots; the filter maps every address to
    the global class only, so that the cap and the choker apply as on a real network. The
    limiter counts protocol bytes but no estimated TCP/IP overhead, like MiniBit's."""
    ses = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "min_announce_interval": 1,  # the lab's tracker asks for 1 s, as for MiniBit
        "rate_limit_ip_overhead": False,
        "upload_rate_limit": cap,
        "alert_mask": ALERTS,
        "user_agent": "minibit-lab-libtorrent/" + lt.__version__,
    })
    everyone = lt.ip_filter()
    everyone.add_rule("0.0.0.0", "255.255.255.255", 1 << ses.global_peer_class_id)
    ses.set_peer_class_filter(everyone)
    return ses


def add(ses, info, save, tracker, flags=0):
    atp = lt.add_torrent_params()
    atp.ti = info
    atp.save_path = save
    atp.trackers = [tracker]
    atp.flags = (lt.torrent_flags.default_flags & ~lt.torrent_flags.auto_managed
                 & ~lt.torrent_flags.paused) | flags
    return ses.add_torrent(atp)


def failed(alert):
    return isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert))


def start_seeder(cfg, info, deadline):
    """The seeder, its payload checked (not timed), seeding."""
    ses = new_session(cfg["seeder_cap"])
    h = add(ses, info, cfg["seeder_dir"], cfg["tracker"])
    while not h.status().is_seeding:
        if time.monotonic() > deadline:
            raise SystemExit("the seeder's check did not finish: %s" % h.status().state)
        for a in ses.pop_alerts():
            if failed(a):
                raise SystemExit("seeder: " + a.message())
        time.sleep(0.05)
    if cfg["super_seed"]:
        h.set_flags(lt.torrent_flags.super_seeding)
    return ses, h


def fsync_tree(root):
    for d, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(d, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


class Leecher:
    """One leecher session; its thread waits for its finish, then makes the copy durable.

    The session wakes the thread through a pipe (set_alert_fd), not wait_for_alert: the
    binding converts the alert wait_for_alert returns after libtorrent's thread may have
    moved it (a crash seen once every few runs of 50 sessions)."""

    def __init__(self, index, ses, save):
        self.index, self.ses, self.save = index, ses, save
        self.handle, self.done, self.error = None, False, None
        self.wake, notify = os.pipe()
        os.set_blocking(notify, False)  # libtorrent's thread must never block on it
        ses.set_alert_fd(notify)

    def watch(self, t0, deadline):
        verified = None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.wake], [], [], 0.2)
            if ready:
                os.read(self.wake, 4096)
            for a in self.ses.pop_alerts():
                if failed(a):
                    self.error = "leecher %d: %s" % (self.index, a.message())
                    emit({"error": self.error})
                    return
                if isinstance(a, lt.torrent_finished_alert) and verified is None:
                    verified = time.monotonic() - t0
                    self.handle.flush_cache()  # its pending writes, then cache_flushed_alert
                elif isinstance(a, lt.cache_flushed_alert) and verified is not None:
                    fsync_tree(self.save)
                    self.done = True
                    emit({"done": self.index, "t": time.monotonic() - t0, "verified_t": verified})
                    return


def bits_hex(pieces):
    b = bytearray((len(pieces) + 7) // 8)
    for i, have in enumerate(pieces):
        if have:
            b[i >> 3] |= 0x80 >> (i & 7)
    return b.hex()


def sample(handles, last_counts, t, cpu0):
    peers = []
    for i, h in enumerate(handles):
        st = h.status(lt.status_flags_t.query_pieces)
        peer = {"u": st.total_payload_upload, "d": st.total_payload_download, "p": st.num_pieces}
        if st.num_pieces != last_counts[i]:
            last_counts[i] = st.num_pieces
            peer["b"] = bits_hex(st.pieces)
        peers.append(peer)
    emit({"t": t, "cpu_ns": cpu_ns() - cpu0, "peers": peers})


def run(cfg):
    deadline = time.monotonic() + cfg["timeout"]
    info = lt.torrent_info(cfg["torrent"])
    seeder, seed_handle = start_seeder(cfg, info, deadline)
    seeder_port = seeder.listen_port()
    leechers = [Leecher(i + 1, new_session(cap), save)
                for i, (cap, save) in enumerate(zip(cfg["leecher_caps"], cfg["leecher_dirs"]))]
    t0, cpu0 = time.monotonic(), cpu_ns()
    deadline = t0 + cfg["timeout"]
    emit({"start": True})
    for lc in leechers:
        lc.handle = add(lc.ses, info, lc.save, cfg["tracker"])
        lc.handle.connect_peer(("127.0.0.1", seeder_port))
    threads = [threading.Thread(target=lc.watch, args=(t0, deadline), daemon=True) for lc in leechers]
    for th in threads:
        th.start()
    handles = [seed_handle] + [lc.handle for lc in leechers]
    counts = [-1] * len(handles)
    tick = t0
    while True:
        tick += SAMPLE_INTERVAL
        time.sleep(max(tick - time.monotonic(), 0))
        now = time.monotonic()
        sample(handles, counts, now - t0, cpu0)
        if any(lc.error for lc in leechers):
            return EXIT_FAILED
        if all(lc.done for lc in leechers) or now > deadline:
            break
    sample(handles, counts, time.monotonic() - t0, cpu0)  # the totals after the last finish
    emit({"end": time.monotonic() - t0, "cpu_ns": cpu_ns() - cpu0})
    return 0 if all(lc.done for lc in leechers) else EXIT_TIMEOUT


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    try:
        status = run(cfg)
    except (RuntimeError, SystemExit) as exc:
        emit({"error": str(exc)})
        status = EXIT_FAILED
    sys.stdout.flush()
    os._exit(status)  # no teardown: 50 sessions would each wait for their tracker's "stopped"


if __name__ == "__main__":
    main()
