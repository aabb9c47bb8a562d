package kubectlplugin_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/minibit-io/minibit/internal/kubectlplugin"
)

// silentServer accepts connections on loopback and never answers: an API server that hangs.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// hangingKubeconfig is a kubeconfig whose server is a silentServer.
func hangingKubeconfig(t *testing.T) string {
	t.Helper()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: hang
  cluster: {server: "https://%s", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: t}
contexts:
- name: hang
  context: {cluster: hang, user: u, namespace: ns}
current-context: hang
`, silentServer(t))
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// An API server that never answers: every command ends, bounded by --request-timeout (and wait
// by --timeout), and says what happened.
func TestAHangingAPIServerIsBounded(t *testing.T) {
	kc := hangingKubeconfig(t)
	for _, args := range [][]string{
		{"where", "s", "--request-timeout", "300ms"},
		{"path", "s", "--request-timeout", "300ms"},
		{"label", "s", "--request-timeout", "300ms"},
		{"wait", "s", "--request-timeout", "300ms", "--interval", "100ms", "--timeout", "2s"},
	} {
		var out, errOut bytes.Buffer
		start := time.Now()
		code := kubectlplugin.Run(context.Background(), append(args, "--kubeconfig", kc), kubectlplugin.IO{Out: &out, Err: &errOut})
		if elapsed := time.Since(start); elapsed > 30*time.Second { // a wide margin: it must end, not hang
			t.Errorf("%q took %s", args, elapsed)
		}
		if code != 1 || out.Len() != 0 || !strings.Contains(errOut.String(), "swarm ns/s") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 1 naming the swarm", args, code, out.String(), errOut.String())
		}
	}
}

// A user the cluster's RBAC does not let read Swarms: wait ends at once (no retry mends it).
func TestWaitFailsAtOnceWhenForbidden(t *testing.T) {
	user, err := env.AddUser(envtest.User{Name: "nobody"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := kubectlplugin.Run(context.Background(), []string{"wait", "s", "-n", "default", "--timeout", "10m", "--kubeconfig", kc},
		kubectlplugin.IO{Out: &out, Err: &errOut})
	if code != 1 || !strings.Contains(errOut.String(), "forbidden") {
		t.Errorf("wait as a user without RBAC: exit %d, stderr %q; want exit 1, forbidden", code, errOut.String())
	}
}
