package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChecksumChecksTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(path, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	ctx := context.Background()
	if err := runChecksum(ctx, []string{"--file", path, "--sha256", strings.ToUpper(abc)}); err != nil {
		t.Fatalf("the right SHA-256 refused: %v", err)
	}
	if err := runChecksum(ctx, []string{"--file", path, "--sha256", strings.Repeat("0", 64)}); err == nil {
		t.Fatal("a wrong SHA-256 accepted")
	}
	if err := runChecksum(ctx, []string{"--file", path + ".missing"}); err == nil {
		t.Fatal("a missing file accepted")
	}
	held, cancel := context.WithCancel(ctx)
	cancel() // --hold returns once the context ends
	if err := runChecksum(held, []string{"--file", path, "--hold"}); err != nil {
		t.Fatal(err)
	}
}
