package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// DefaultUser is the uid:gid images run as: distroless's "nonroot".
const DefaultUser = "65532:65532"

// epoch stamps every file and the config, so the same binaries always give the same image digest.
var epoch = time.Unix(0, 0).UTC()

// Spec describes one image: its reference, the user it runs as and the binaries it holds, each
// placed at /NAME (NAME being the file's base name).
type Spec struct {
	Tag        string
	User       string
	Entrypoint string
	Arch       string
	Binaries   []string
}

// writeImage builds the image of spec and writes it as a tarball to out (atomically).
func writeImage(out string, spec Spec) error {
	ref, err := name.NewTag(spec.Tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", spec.Tag, err)
	}
	img, err := Build(spec)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", out, err)
	}
	return os.Rename(tmp, out)
}

// Build assembles the image of spec: an empty base plus one layer, and a config with the user,
// the entrypoint and the platform.
func Build(spec Spec) (v1.Image, error) {
	uid, gid, err := parseUser(spec.User)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootfsTar(spec.Binaries, uid, gid)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithCompressedCaching)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", spec.Arch
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config.User = spec.User
	cfg.Config.Entrypoint = []string{spec.Entrypoint}
	cfg.Config.WorkingDir = "/"
	cfg.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin:/"}
	return mutate.ConfigFile(img, cfg)
}

// parseUser reads "uid:gid" (or "uid", gid then equal to uid) as numbers.
func parseUser(user string) (uid, gid int, err error) {
	u, g, found := strings.Cut(user, ":")
	if !found {
		g = u
	}
	uid, err = strconv.Atoi(u)
	if err == nil {
		gid, err = strconv.Atoi(g)
	}
	if err != nil || uid < 0 || gid < 0 {
		return 0, 0, fmt.Errorf("user %q: want numeric uid:gid", user)
	}
	return uid, gid, nil
}

// rootfsTar returns the layer's tar: /etc/passwd and /etc/group naming root and the image's user,
// a world-writable sticky /tmp, and each binary at /NAME, executable by all.
func rootfsTar(binaries []string, uid, gid int) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body []byte) error {
		h.ModTime, h.Format = epoch, tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/tmp:/sbin/nologin\n", uid, gid)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", gid)
	entries := []struct {
		h    tar.Header
		body []byte
	}{
		{tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}, nil},
		{tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(passwd))}, []byte(passwd)},
		{tar.Header{Name: "etc/group", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(group))}, []byte(group)},
		{tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}, nil},
	}
	for _, e := range entries {
		if err := add(&e.h, e.body); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, path := range binaries {
		base := filepath.Base(path)
		if seen[base] || base == "etc" || base == "tmp" {
			return nil, fmt.Errorf("binary %s: name /%s is already taken in the image", path, base)
		}
		seen[base] = true
		body, err := readExecutable(path)
		if err != nil {
			return nil, err
		}
		h := tar.Header{Name: base, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))}
		if err := add(&h, body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readExecutable reads a regular file that is executable, refusing anything else with a clear error.
func readExecutable(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("binary: %w", err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return nil, fmt.Errorf("binary %s: not an executable regular file", path)
	}
	return os.ReadFile(path)
}
