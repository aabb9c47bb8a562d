package interop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/peer"
	"github.com/minibit-io/minibit/internal/peer/core"
	"github.com/minibit-io/minibit/internal/tracker/client"
)

// The stock v1-only clients of the v1 twin's tests: aria2c 1.36 and transmission-cli 3.00, run
// headless on loopback only: no DHT, no local peer discovery, no peer exchange, no uTP, no port
// mapping, listening on one 127.0.0.x address, a private configuration, and MiniBit's tracker
// as their only tracker.

// v1Hint is the remedy for a machine without the stock clients.
const v1Hint = "`make test-deps` installs them (or `apt-get install aria2 transmission-cli transmission-daemon`)"

// requireTool skips the test when the command name is not installed.
func requireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed: %s", name, v1Hint)
	}
}

// v1Client is one run of aria2c or transmission-cli.
type v1Client struct {
	t      testing.TB
	name   string
	cmd    *exec.Cmd
	out    *lockedBuffer
	waited chan error // Wait's result, once
	cancel context.CancelFunc
	done   string // transmission: the file its --finish script creates
	log    string // aria2: its log file
}

// startV1Client runs name with args until the test ends (SIGTERM, then a kill after 10 s), at
// most testTimeout; on failure or with -v its output is logged.
func startV1Client(t testing.TB, name string, args ...string) *v1Client {
	t.Helper()
	requireTool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	c := &v1Client{t: t, name: name, cmd: exec.CommandContext(ctx, name, args...), out: &lockedBuffer{},
		waited: make(chan error, 1), cancel: cancel}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.Cancel = func() error { return c.cmd.Process.Signal(syscall.SIGTERM) }
	c.cmd.WaitDelay = 10 * time.Second
	if err := c.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v (%s)", name, err, v1Hint)
	}
	go func() { c.waited <- c.cmd.Wait() }()
	t.Cleanup(c.stop)
	return c
}

// stop ends the client and logs its output when the test failed or runs verbose.
func (c *v1Client) stop() {
	c.cancel()
	err := <-c.waited
	c.waited <- err
	if c.t.Failed() || testing.Verbose() {
		c.t.Logf("%s exited (%v); its output:\n%s", c.name, err, tail(c.out.String(), 4000))
		if c.log != "" {
			if b, err := os.ReadFile(c.log); err == nil {
				c.t.Logf("%s's log:\n%s", c.name, tail(string(b), 8000))
			}
		}
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}

// waitExit waits for the client to exit and fails the test unless it exited 0.
func (c *v1Client) waitExit() {
	c.t.Helper()
	err := <-c.waited
	c.waited <- err
	if err != nil {
		c.t.Fatalf("%s failed: %v", c.name, err)
	}
}

// waitFinished waits until transmission-cli ran its --finish script: the torrent is complete.
func (c *v1Client) waitFinished() {
	c.t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		if _, err := os.Stat(c.done); err == nil {
			return
		}
		select {
		case err := <-c.waited:
			c.waited <- err
			c.t.Fatalf("%s exited before it finished: %v", c.name, err)
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s did not finish within %v", c.name, testTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePort is a TCP port free on ip now (for a client that needs its port on the command line).
func freePort(t testing.TB, ip string) int {
	t.Helper()
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// aria2Options is one aria2c run: where it listens (and leaves from), the download directory,
// the torrent (a file, or the tracker's URL of the twin), and its role.
type aria2Options struct {
	ip, dir, torrent string
	// seed seeds the complete data in dir until the test ends; unverified seeds it without
	// checking it first (a client that serves corrupt data).
	seed, unverified bool
}

// startAria2 runs aria2c on loopback only. A leecher exits 0 once the download is complete.
func startAria2(t testing.TB, o aria2Options) *v1Client {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "aria2.log")
	args := []string{
		"--no-conf=true", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
		"--enable-peer-exchange=false", "--disable-ipv6=true", "--interface=" + o.ip,
		fmt.Sprintf("--listen-port=%d", freePort(t, o.ip)), "--summary-interval=0", "--console-log-level=warn",
		"--log=" + logFile, "--log-level=info", "--file-allocation=none", "--follow-torrent=mem",
		"--bt-tracker-interval=1", "--dir=" + o.dir,
	}
	switch {
	case o.seed && o.unverified:
		args = append(args, "--bt-seed-unverified=true", "--check-integrity=false", "--seed-ratio=0.0")
	case o.seed:
		args = append(args, "--check-integrity=true", "--seed-ratio=0.0")
	default:
		args = append(args, "--seed-time=0", fmt.Sprintf("--bt-stop-timeout=%d", int(scriptTimeout.Seconds())))
	}
	if strings.HasPrefix(o.torrent, "http://") {
		args = append(args, o.torrent)
	} else {
		args = append(args, "--torrent-file="+o.torrent)
	}
	c := startV1Client(t, "aria2c", args...)
	c.log = logFile
	return c
}

// startTransmission runs transmission-cli on ip with a private configuration directory that
// turns off DHT, LPD, PEX, uTP and port mapping, prefers unencrypted connections (MiniBit has
// no BEP 8 encryption) and binds to ip. It downloads into, or seeds from, dir; waitFinished
// returns once the torrent is complete.
func startTransmission(t testing.TB, ip, dir, torrent string) *v1Client {
	t.Helper()
	conf := t.TempDir()
	settings := fmt.Sprintf(`{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
 "utp-enabled": false, "port-forwarding-enabled": false, "blocklist-enabled": false,
 "bind-address-ipv4": %q, "bind-address-ipv6": "::1", "peer-port": %d,
 "peer-port-random-on-start": false, "rpc-enabled": false, "encryption": 0,
 "ratio-limit-enabled": false, "idle-seeding-limit-enabled": false}`, ip, freePort(t, ip))
	if err := os.WriteFile(filepath.Join(conf, "settings.json"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	done := filepath.Join(conf, "finished")
	script := filepath.Join(conf, "finished.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch '"+done+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	c := startV1Client(t, "transmission-cli", "--config-dir", conf, "--download-dir", dir, "--finish", script,
		"--no-portmap", "--no-uplimit", "--no-downlimit", torrent)
	c.done = done
	return c
}

// writeTwin writes meta's v1 twin to a temporary file and returns its path and info-hash.
func writeTwin(t testing.TB, meta *metainfo.MetaInfo) (string, [20]byte) {
	t.Helper()
	twin, hash, err := meta.EncodeV1Twin()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), meta.Info.Name+".v1.torrent")
	if err := os.WriteFile(path, twin, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, hash
}

// publish stores meta and its twin at the tracker under name, as peer seed --v1-twin does, and
// returns the tracker's URL of the twin.
func publish(t testing.TB, trackerURL, name string, meta *metainfo.MetaInfo) string {
	t.Helper()
	data, err := meta.Encode()
	if err != nil {
		t.Fatal(err)
	}
	twin, _, err := meta.EncodeV1Twin()
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(trackerURL)
	ctx := context.Background()
	if err := c.PublishTorrent(ctx, name, data); err != nil {
		t.Fatal(err)
	}
	if err := c.PublishTwin(ctx, name, twin); err != nil {
		t.Fatal(err)
	}
	return trackerURL + client.TwinPath(name)
}

// twinSession runs a MiniBit session with the v1 twin on ip (a seeder of path when seed),
// announcing to the tracker.
func twinSession(t testing.TB, meta *metainfo.MetaInfo, path, ip, trackerURL string, seed bool, role string) *peer.Session {
	t.Helper()
	cfg := peer.Config{Config: core.Config{Torrent: meta}, Path: path, Seed: seed, Trusted: seed,
		TrackerURL: trackerURL, V1Twin: true}
	return startSessionAt(t, cfg, ip, role)
}

// startSessionAt runs a session listening on ip (its dials and announces leave from there too),
// so that a ban of another loopback address does not touch it.
func startSessionAt(t testing.TB, cfg peer.Config, ip, role string) *peer.Session {
	t.Helper()
	cfg.ListenAddr = net.JoinHostPort(ip, "0")
	return startSession(t, cfg, role)
}

// payload writes the content of a test under dir: one file, or a small model-like tree (nested
// directories, an empty file, files smaller and larger than a piece, so pad files). It returns
// the path a seeder serves and the hybrid torrent announcing to the tracker.
func payload(t testing.TB, dir string, multi bool, trackerURL string) (string, *metainfo.MetaInfo) {
	t.Helper()
	opts := metainfo.CreateOptions{PieceLength: pieceLength, Announce: trackerURL + "/announce"}
	if !multi {
		path := writeContent(t, dir, "content.bin", fileSize)
		meta, err := metainfo.Create(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		return path, meta
	}
	root := filepath.Join(dir, "model")
	if err := generate.WriteTree(root, 9, generate.TreeLayout(fileSize, 6), false); err != nil {
		t.Fatal(err)
	}
	meta, err := metainfo.CreateDir(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	return root, meta
}

// assertSamePayload fails unless every file of meta under got holds the bytes of the file
// under want (a v1 client may add the pad files of BEP 47 beside them).
func assertSamePayload(t testing.TB, meta *metainfo.MetaInfo, want, got string) {
	t.Helper()
	if !meta.MultiFile() {
		assertSameFile(t, want, got)
		return
	}
	for _, f := range meta.Info.Files {
		rel := filepath.Join(f.Path...)
		if _, err := os.Stat(filepath.Join(got, rel)); f.Length == 0 && errors.Is(err, os.ErrNotExist) {
			t.Logf("no empty file %s: Transmission 3.00 creates no zero-length file", rel)
			continue
		}
		assertSameFile(t, filepath.Join(want, rel), filepath.Join(got, rel))
	}
}

// writePads writes the pad files of meta's twin (zeros, named .pad/N as BEP 47 names them)
// under the payload directory root, as a v1 client that downloaded the twin has them: a v1
// client seeding the twin checks the pieces that hold them.
func writePads(t testing.TB, meta *metainfo.MetaInfo, root string) {
	t.Helper()
	files := meta.Info.Files
	for k, f := range files[:len(files)-1] {
		pad := files[k+1].Offset - (f.Offset + f.Length)
		if pad == 0 {
			continue
		}
		path := filepath.Join(root, ".pad", fmt.Sprint(pad))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, make([]byte, pad), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
