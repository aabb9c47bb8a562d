"""Load a .torrent with libtorrent and describe it, for MiniBit's interop test.

Usage: /usr/bin/python3 libtorrent_load.py TORRENT
Prints JSON: {"v1": hex or "", "v2": hex or "", "files": [[path, size, offset], ...]} where the
files are libtorrent's view of the payload (pad files left out), paths joined with "/" and
starting with the torrent's name. Exits with status 3 if the libtorrent module is missing.
"""
import json
import sys

try:
    import libtorrent as lt
except ImportError as exc:
    print("python libtorrent module missing (%s): apt-get install python3-libtorrent" % exc,
          file=sys.stderr)
    sys.exit(3)


def main():
    ti = lt.torrent_info(sys.argv[1])
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


if __name__ == "__main__":
    main()
