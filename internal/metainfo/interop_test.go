package metainfo

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// python is Debian's interpreter, for which python3-libtorrent is installed (not a pyenv one).
const python = "/usr/bin/python3"

// runPython runs a script of testdata with /usr/bin/python3 and returns its standard output.
func runPython(t *testing.T, script string, args ...string) string {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, append([]string{script}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		t.Fatalf("libtorrent's Python module is missing; `make test-deps` installs it "+
			"(or `apt-get install python3-libtorrent`) (%s)", strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		t.Fatalf("%s %s: %v\n%s\n(needs %s with libtorrent: `make test-deps`, or `apt-get install python3-libtorrent`)",
			python, script, err, stderr.String(), python)
	}
	return string(stdout)
}

// libtorrentCreate runs testdata/libtorrent_create.py: libtorrent makes a hybrid torrent of the
// file, written to out; it returns libtorrent's v1 and v2 info-hashes in hex.
func libtorrentCreate(t *testing.T, path string, pieceLength int64, out string) (v1, v2 string) {
	t.Helper()
	return twoHashes(t, runPython(t, "libtorrent_create.py", path, fmt.Sprint(pieceLength), out))
}

// twoHashes splits a script's output into the v1 and v2 info-hashes.
func twoHashes(t *testing.T, stdout string) (v1, v2 string) {
	t.Helper()
	fields := strings.Fields(stdout)
	if len(fields) != 2 {
		t.Fatalf("libtorrent script printed %q, want two hashes", stdout)
	}
	return fields[0], fields[1]
}

// TestInteropLibtorrent checks that MiniBit and libtorrent make the same hybrid torrent of the
// same file: same v1 and v2 info-hashes; and that MiniBit parses libtorrent's torrent and
// verifies the file's pieces with it.
func TestInteropLibtorrent(t *testing.T) {
	for _, tc := range append(sizes, struct{ length, pieceLength int64 }{5<<20/2 + 7, 1 << 20}) {
		t.Run(fmt.Sprintf("%d/%d", tc.length, tc.pieceLength), func(t *testing.T) {
			ours, path := create(t, tc.length, tc.pieceLength)
			out := filepath.Join(t.TempDir(), "lt.torrent")
			v1, v2 := libtorrentCreate(t, path, tc.pieceLength, out)
			if got := fmt.Sprintf("%x", ours.InfoHashV1()); got != v1 {
				t.Errorf("v1 info-hash %s, libtorrent's %s", got, v1)
			}
			if got := fmt.Sprintf("%x", ours.InfoHashV2()); got != v2 {
				t.Errorf("v2 info-hash %s, libtorrent's %s", got, v2)
			}
			theirs, err := Load(out)
			if err != nil {
				t.Fatalf("parsing libtorrent's torrent: %v", err)
			}
			if theirs.InfoHashV1() != ours.InfoHashV1() || theirs.Info.PiecesRoot != ours.Info.PiecesRoot {
				t.Error("libtorrent's torrent, parsed, differs from ours")
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := range theirs.NumPieces() {
				off := theirs.PieceOffset(i)
				if !theirs.VerifyPiece(i, data[off:off+int64(theirs.PieceLen(i))]) {
					t.Errorf("piece %d fails against libtorrent's piece layer", i)
				}
			}
		})
	}
}
