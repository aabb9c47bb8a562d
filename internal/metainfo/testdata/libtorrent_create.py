"""libtorrent 2.0 (python3-libtorrent) for MiniBit's interop tests.

Usage: /usr/bin/python3 libtorrent_create.py PATH PIECE_SIZE OUT_TORRENT
           libtorrent makes a hybrid (v1+v2) torrent of the file or directory at PATH, written
           to OUT_TORRENT; prints the v1 and v2 info-hashes in hex, separated by a space.
       /usr/bin/python3 libtorrent_create.py --load TORRENT
           libtorrent loads TORRENT; prints JSON {"v1": hex or "", "v2": hex or "", "files":
           [[path, size, offset], ...]}: its files (pad files left out), paths joined with "/"
           and starting with the torrent's name.
       /usr/bin/python3 libtorrent_create.py --generate DIR
           writes the directory of the checked-in testdata/libtorrent-tree.torrent (made by the
           first form with PIECE_SIZE 32768): files of generated content (see content()).
Exits with status 3 if the libtorrent module is missing.
"""
import hashlib
import json
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


def create(path, piece_size, out):
    parent, name = os.path.split(os.path.abspath(path))
    fs = lt.file_storage()
    if os.path.isdir(path):
        lt.add_files(fs, os.path.abspath(path))
    else:
        fs.add_file(name, os.path.getsize(path))
    t = lt.create_torrent(fs, piece_size)  # hybrid v1+v2 is libtorrent 2.0's default
    lt.set_piece_hashes(t, parent)
    e = t.generate()
    e.pop(b"creation date", None)  # keep checked-in files reproducible
    data = lt.bencode(e)
    with open(out, "wb") as f:
        f.write(data)
    hashes = lt.torrent_info(out).info_hashes()
    print(str(hashes.v1), str(hashes.v2))


def load(path):
    ti = lt.torrent_info(path)
    hashes = ti.info_hashes()
    fs = ti.files()
    files = []
    for i in range(fs.num_files()):
        if fs.file_flags(i) & lt.file_storage.flag_pad_file:
            continue
        files.append([fs.file_path(i).replace("\\", "/"), fs.file_size(i), fs.file_offset(i)])
    print(json.dumps({
        "v1": str(hashes.v1) if hashes.has_v1() else "",
        "v2": str(hashes.v2) if hashes.has_v2() else "",
        "files": files,
    }))


def main():
    if sys.argv[1] == "--generate":
        generate(sys.argv[2])
    elif sys.argv[1] == "--load":
        load(sys.argv[2])
    else:
        create(sys.argv[1], int(sys.argv[2]), sys.argv[3])


if __name__ == "__main__":
    main()
