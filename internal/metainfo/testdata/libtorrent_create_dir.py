"""Create a hybrid (v1+v2) multi-file torrent of a directory with libtorrent, for MiniBit's
interop test.

Usage: /usr/bin/python3 libtorrent_create_dir.py DIR PIECE_SIZE OUT_TORRENT
       /usr/bin/python3 libtorrent_create_dir.py --generate DIR
The first form prints the v1 and v2 info-hashes in hex, separated by a space. The second writes
the directory of the checked-in testdata/libtorrent-tree.torrent (made by the first form with
PIECE_SIZE 32768): its files hold generated content (see content()), so that the Go test can
regenerate them. Exits with status 3 if the libtorrent module is missing.
"""
import hashlib
import os
import sys

try:
    import libtorrent as lt
except ImportError as exc:
    print("python libtorrent module missing (%s): apt-get install python3-libtorrent" % exc,
          file=sys.stderr)
    sys.exit(3)

# TREE is the checked-in torrent's files: two identical files (the same length), an empty one,
# a whole piece, names whose slash-joined order differs from the tree's.
TREE = [("a/x.bin", 40000), ("a-c", 32768), ("empty", 0), ("sub/deeper/y", 70000),
        ("sub/small", 100), ("z.bin", 40000)]


def content(length):
    """The bytes of a file of this length: SHA-256 of "<length>:<k>" for k = 0, 1, ..."""
    out = bytearray()
    k = 0
    while len(out) < length:
        out += hashlib.sha256(("%d:%d" % (length, k)).encode()).digest()
        k += 1
    return bytes(out[:length])


def generate(top):
    for path, length in TREE:
        full = os.path.join(top, *path.split("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(content(length))


def create(top, piece_size, out):
    top = os.path.abspath(top)
    fs = lt.file_storage()
    lt.add_files(fs, top)
    t = lt.create_torrent(fs, piece_size)  # hybrid v1+v2 is libtorrent 2.0's default
    lt.set_piece_hashes(t, os.path.dirname(top))
    e = t.generate()
    e.pop(b"creation date", None)  # keep the checked-in file reproducible
    data = lt.bencode(e)
    with open(out, "wb") as f:
        f.write(data)
    hashes = lt.torrent_info(out).info_hashes()
    print(str(hashes.v1), str(hashes.v2))


def main():
    if sys.argv[1] == "--generate":
        generate(sys.argv[2])
    else:
        create(sys.argv[1], int(sys.argv[2]), sys.argv[3])


if __name__ == "__main__":
    main()
