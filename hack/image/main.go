// Command image builds an OCI image tarball from static binaries without a Docker engine: an empty
// base, one layer holding the binaries plus a minimal /etc/passwd and /tmp, written in the
// `docker save` format that `ctr images import` and `kind load image-archive` read.
//
//	go run ./hack/image --out bin/minibit-image.tar --tag minibit:dev bin/manager bin/tracker bin/peer
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
)

func main() {
	spec, out, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(2)
	}
	if err := writeImage(out, spec); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	slog.Info("Image written", "out", out, "tag", spec.Tag, "binaries", len(spec.Binaries))
}

// parseFlags turns the command line into an image spec and the output path.
func parseFlags(args []string) (Spec, string, error) {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	out := fs.String("out", "", "path of the image tarball to write")
	tag := fs.String("tag", "", "image reference, e.g. minibit:dev")
	user := fs.String("user", DefaultUser, "uid:gid the image runs as")
	entry := fs.String("entrypoint", "", "entrypoint path inside the image (default: /NAME of the first binary)")
	arch := fs.String("arch", runtime.GOARCH, "image architecture")
	if err := fs.Parse(args); err != nil {
		return Spec{}, "", err
	}
	if *out == "" || *tag == "" || fs.NArg() == 0 {
		return Spec{}, "", errors.New("usage: image --out FILE --tag REF [--user UID:GID] [--entrypoint PATH] BINARY (one or more)")
	}
	spec := Spec{Tag: *tag, User: *user, Arch: *arch, Binaries: fs.Args(), Entrypoint: *entry}
	if spec.Entrypoint == "" {
		spec.Entrypoint = "/" + filepath.Base(spec.Binaries[0])
	}
	return spec, *out, nil
}
