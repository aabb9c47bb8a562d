"""Create a hybrid (v1+v2) torrent of one file with libtorrent, for MiniBit's interop test.

Usage: /usr/bin/python3 libtorrent_create.py FILE PIECE_SIZE OUT_TORRENT
Prints the v1 and v2 info-hashes in hex, separated by a space.
Exits with status 3 if the libtorrent module is missing.
"""
import os
import sys

try:
    import libtorrent as lt
except ImportError as exc:
    print("python libtorrent module missing (%s): apt-get install python3-libtorrent" % exc,
          file=sys.stderr)
    sys.exit(3)


def main():
    path, piece_size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    parent, name = os.path.split(os.path.abspath(path))
    fs = lt.file_storage()
    fs.add_file(name, os.path.getsize(path))
    t = lt.create_torrent(fs, piece_size)  # hybrid v1+v2 is libtorrent 2.0's default
    lt.set_piece_hashes(t, parent)
    data = lt.bencode(t.generate())
    with open(out, "wb") as f:
        f.write(data)
    hashes = lt.torrent_info(data).info_hashes()
    print(str(hashes.v1), str(hashes.v2))


if __name__ == "__main__":
    main()
