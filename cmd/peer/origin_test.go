package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// parseOrigin parses args into fresh origin flags.
func parseOrigin(t *testing.T, args ...string) (*originFlags, error) {
	t.Helper()
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o originFlags
	o.add(fs)
	return &o, fs.Parse(args)
}

func TestOriginFlagsNameOneOrigin(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		fetch   bool
		wantErr string
	}{
		{args: nil},
		{args: []string{"--generate-size", "1MiB"}},
		{args: []string{"--url", "http://a/x", "--url", "http://a/y"}, fetch: true},
		{args: []string{"--oci-ref", "reg:5000/model:v1", "--oci-plain-http"}, fetch: true},
		{args: []string{"--s3-endpoint", "s3:9000", "--s3-bucket", "b"}, fetch: true},
		{args: []string{"--url", "http://a/x", "--oci-ref", "r/m:v1"}, wantErr: "one origin"},
		{args: []string{"--generate-size", "1MiB", "--s3-bucket", "b"}, wantErr: "one origin"},
		{args: []string{"--url", "http://a/x", "--url", "http://a/y", "--url-sha256", strings.Repeat("a", 64)}, wantErr: "exactly one --url"},
		{args: []string{"--url", "http://a/x", "--max-bytes", "0"}, wantErr: "--max-bytes must be positive"},
	} {
		o, err := parseOrigin(t, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		spec, fetch, err := o.spec()
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want one saying %q", tc.args, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case fetch != tc.fetch:
			t.Errorf("%v: fetch %v, want %v (spec %+v)", tc.args, fetch, tc.fetch, spec)
		}
	}
}

func TestPieceSizeFlag(t *testing.T) {
	o, err := parseOrigin(t)
	if err != nil || int64(o.pieceSize) != metainfo.DefaultPieceLength {
		t.Fatalf("default piece size %v (%v), want the design's 256 KiB", o.pieceSize, err)
	}
	if o, err = parseOrigin(t, "--piece-size", "auto"); err != nil || o.pieceSize != 0 {
		t.Fatalf("--piece-size auto: %v (%v)", o.pieceSize, err)
	}
	if o, err = parseOrigin(t, "--piece-size", "1MiB"); err != nil || o.pieceSize != 1<<20 {
		t.Fatalf("--piece-size 1MiB: %v (%v)", o.pieceSize, err)
	}
	for _, bad := range []string{"300KiB", "1KiB", "many"} {
		if _, err := parseOrigin(t, "--piece-size", bad); err == nil {
			t.Errorf("--piece-size %s accepted", bad)
		}
	}
}

func TestCreateOptionsAutoFollowsThePayload(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.bin", "sub/b.bin"} {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(6 << 30); err != nil { // sparse: 12 GiB in all, no disk
			t.Fatal(err)
		}
		_ = f.Close()
	}
	o, err := parseOrigin(t, "--piece-size", "auto", "--include", "**/*.bin", "--exclude", "sub/**")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := o.createOptions(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := metainfo.AutoPieceLength(12 << 30); opts.PieceLength != want {
		t.Errorf("auto piece length %d, want AutoPieceLength(12 GiB) = %d", opts.PieceLength, want)
	}
	if len(opts.Include) != 1 || len(opts.Exclude) != 1 {
		t.Errorf("include/exclude not passed on: %+v", opts)
	}
}
