package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// buildHello compiles the static test server into dir and returns its path.
func buildHello(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./testdata/hello")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build hello: %v\n%s", err, out)
	}
	return bin
}

// layerFiles reads the image's single layer into a map from path to header and content.
func layerFiles(t *testing.T, img v1.Image) (map[string]*tar.Header, map[string][]byte) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %d, %v; want exactly 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	headers, bodies := map[string]*tar.Header{}, map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return headers, bodies
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		headers[h.Name], bodies[h.Name] = h, body
	}
}

func TestImageTarballHoldsRunnableBinaryAndConfig(t *testing.T) {
	dir := t.TempDir()
	hello := buildHello(t, dir)
	out := filepath.Join(dir, "out", "hello.tar")
	spec, gotOut, err := parseFlags([]string{"--out", out, "--tag", "minibit:dev", hello})
	if err != nil || gotOut != out {
		t.Fatalf("parseFlags: %v, out %q", err, gotOut)
	}
	if err := writeImage(out, spec); err != nil {
		t.Fatal(err)
	}

	img, err := tarball.ImageFromPath(out, nil)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != DefaultUser || strings.Join(cfg.Config.Entrypoint, " ") != "/hello" || cfg.OS != "linux" {
		t.Fatalf("config: user %q entrypoint %v os %q", cfg.Config.User, cfg.Config.Entrypoint, cfg.OS)
	}
	headers, bodies := layerFiles(t, img)
	want, _ := os.ReadFile(hello)
	if h := headers["hello"]; h == nil || h.Mode != 0o755 || !bytes.Equal(bodies["hello"], want) {
		t.Fatalf("/hello missing, wrong mode or content: %+v", h)
	}
	if h := headers["tmp/"]; h == nil || h.Mode != 0o1777 {
		t.Fatalf("/tmp missing or not sticky world-writable: %+v", h)
	}
	if !strings.Contains(string(bodies["etc/passwd"]), "nonroot:x:65532:65532:") {
		t.Fatalf("/etc/passwd lacks the nonroot user:\n%s", bodies["etc/passwd"])
	}

	// The binary taken out of the image serves HTTP.
	extracted := filepath.Join(dir, "extracted")
	if err := os.WriteFile(extracted, bodies["hello"], 0o755); err != nil {
		t.Fatal(err)
	}
	assertServes(t, extracted)
}

// assertServes runs bin on a free loopback port and checks it answers "hello from".
func assertServes(t *testing.T, bin string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--addr", addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	client := &http.Client{Timeout: 2 * time.Second}
	var lastErr error
	for ctx.Err() == nil {
		resp, err := client.Get("http://" + addr + "/")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.HasPrefix(string(body), "hello from") {
				t.Fatalf("body = %q", body)
			}
			return
		}
		lastErr = err
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("server never answered: %v", lastErr)
}

func TestImageDigestIsReproducible(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tool")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	digest := func() v1.Hash {
		img, err := Build(Spec{Tag: "x:1", User: "65535:65535", Entrypoint: "/tool", Arch: "amd64", Binaries: []string{bin}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if a, b := digest(), digest(); a != b {
		t.Fatalf("two builds of the same input differ: %s vs %s", a, b)
	}
}

func TestImageRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	exe := filepath.Join(dir, "exe")
	other := filepath.Join(dir, "sub", "exe")
	_ = os.MkdirAll(filepath.Dir(other), 0o755)
	for _, f := range []string{exe, other} {
		if err := os.WriteFile(f, []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		spec Spec
		want string
	}{
		"not executable": {Spec{Tag: "a:b", User: DefaultUser, Binaries: []string{plain}}, "not an executable"},
		"missing":        {Spec{Tag: "a:b", User: DefaultUser, Binaries: []string{filepath.Join(dir, "nope")}}, "no such file"},
		"same name":      {Spec{Tag: "a:b", User: DefaultUser, Binaries: []string{exe, other}}, "already taken"},
		"bad user":       {Spec{Tag: "a:b", User: "nobody", Binaries: []string{exe}}, "numeric uid:gid"},
		"bad tag":        {Spec{Tag: "UPPER:case:bad", User: DefaultUser, Binaries: []string{exe}}, "tag"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := writeImage(filepath.Join(dir, name+".tar"), c.spec)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v; want it to mention %q", err, c.want)
			}
		})
	}
	if _, _, err := parseFlags([]string{"--tag", "a:b"}); err == nil {
		t.Fatal("parseFlags accepted a command line with no --out and no binary")
	}
}
