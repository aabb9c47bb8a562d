package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The binary logs to stdout, says when it is ready, and exits 0 on SIGTERM (a pod's stop).
func TestBinaryLogsToStdoutAndStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not available:", err)
	}
	bin := filepath.Join(t.TempDir(), "origin")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("payload"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "--dir", dir, "--http", "127.0.0.1:0", "--registry", "127.0.0.1:0", "--s3", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	waitFor(t, lines, "Origin ready")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, lines, "Origin stopping")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

// waitFor reads lines until one contains msg (the command's context bounds the wait).
func waitFor(t *testing.T, lines *bufio.Scanner, msg string) {
	t.Helper()
	for lines.Scan() {
		if strings.Contains(lines.Text(), msg) {
			return
		}
	}
	t.Fatalf("stdout ended before %q: %v", msg, lines.Err())
}
