package kubectlplugin_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minibit-io/minibit/internal/kubectlplugin"
)

// result is what one run of the plugin did.
type result struct {
	code     int
	out, err string
}

// run runs `kubectl minibit ARGS... --kubeconfig K -n NS` (flags after the arguments, as users type them).
func run(ns string, args ...string) result {
	var out, errOut bytes.Buffer // read once Run has returned
	args = append(args, "--kubeconfig", kubeconfig, "-n", ns)
	code := kubectlplugin.Run(context.Background(), args, kubectlplugin.IO{Out: &out, Err: &errOut})
	return result{code, out.String(), errOut.String()}
}

func nodes(wanted, ready, downloading, failed int64, label, path string) map[string]any {
	return map[string]any{"wanted": wanted, "ready": ready, "downloading": downloading, "failed": failed, "label": label, "path": path}
}

func TestWhereListsExactlyTheLabelledNodes(t *testing.T) {
	ns := newNamespace(t)
	newSwarm(t, ns, "weights")
	label := "ready.minibit.io/" + ns + ".weights"
	setStatus(t, ns, "weights", "Distributing", nodes(4, 2, 1, 1, label, "/var/lib/minibit/cache/by-name/"+ns+"/weights"))
	newNode(t, ns+"-b", map[string]string{label: "true"})
	newNode(t, ns+"-a", map[string]string{label: "true"})
	newNode(t, ns+"-c", map[string]string{label: "false"})                              // not a verified copy
	newNode(t, ns+"-d", map[string]string{"ready.minibit.io/" + ns + ".other": "true"}) // another Swarm's copy
	newNode(t, ns+"-e", nil)

	r := run(ns, "where", "weights")
	if r.code != 0 {
		t.Fatalf("where: exit %d, stderr %q", r.code, r.err)
	}
	if want := ns + "-a\n" + ns + "-b\n"; r.out != want {
		t.Errorf("where printed %q, want %q", r.out, want)
	}
	if !strings.Contains(r.err, "2/4 nodes ready (1 downloading, 1 failed)") {
		t.Errorf("where's stderr %q lacks the counts", r.err)
	}
}

func TestWhereWithoutCopies(t *testing.T) {
	ns := newNamespace(t)
	newSwarm(t, ns, "empty")
	setStatus(t, ns, "empty", "Distributing", nodes(3, 0, 3, 0, "ready.minibit.io/"+ns+".empty", "/c/by-name/"+ns+"/empty"))
	if r := run(ns, "where", "empty"); r.code != 0 || r.out != "" || !strings.Contains(r.err, "0/3 nodes ready") {
		t.Errorf("where: %+v, want exit 0, no nodes, 0/3 on stderr", r)
	}
}

func TestPathPrintsTheStablePath(t *testing.T) {
	ns := newNamespace(t)
	newSwarm(t, ns, "data")
	if r := run(ns, "path", "data"); r.code != 1 || !strings.Contains(r.err, "no status.nodes.path yet") {
		t.Errorf("path before the operator wrote it: %+v, want exit 1 and a clear message", r)
	}
	path := "/var/lib/minibit/cache/by-name/" + ns + "/data"
	setStatus(t, ns, "data", "Distributing", nodes(1, 0, 1, 0, "ready.minibit.io/"+ns+".data", path))
	if r := run(ns, "path", "data"); r.code != 0 || r.out != path+"\n" {
		t.Errorf("path: %+v, want %q", r, path)
	}
}

// A status written by someone other than the operator must not steer the selector or the path a
// consumer mounts.
func TestForgedStatusIsRefused(t *testing.T) {
	ns := newNamespace(t)
	newSwarm(t, ns, "s")
	label := "ready.minibit.io/" + ns + ".s"
	good := "/var/lib/minibit/cache/by-name/" + ns + "/s"
	newNode(t, ns+"-other", map[string]string{"kubernetes.io/os": "linux"})
	for _, forged := range []string{"kubernetes.io/os", label + ",kubernetes.io/os", "ready.minibit.io/" + ns + ".t"} {
		setStatus(t, ns, "s", "Distributing", nodes(1, 1, 0, 0, forged, good))
		if r := run(ns, "where", "s"); r.code != 1 || r.out != "" || !strings.Contains(r.err, "refusing it") {
			t.Errorf("where with status.nodes.label %q: %+v, want exit 1 and no nodes", forged, r)
		}
	}
	for _, forged := range []string{"/etc", "relative/by-name/" + ns + "/s", "/x/../by-name/" + ns + "/s",
		"/x\n/by-name/" + ns + "/s", "/x//by-name/" + ns + "/s", "/by-name/" + ns + "/s/.."} {
		setStatus(t, ns, "s", "Distributing", nodes(1, 1, 0, 0, label, forged))
		if r := run(ns, "path", "s"); r.code != 1 || r.out != "" || !strings.Contains(r.err, "refusing it") {
			t.Errorf("path with status.nodes.path %q: %+v, want exit 1 and no path", forged, r)
		}
	}
}

func TestLabel(t *testing.T) {
	ns := newNamespace(t)
	want := "ready.minibit.io/" + ns + ".model\n"
	if r := run(ns, "label", "model"); r.code != 0 || r.out != want || !strings.Contains(r.err, "does not exist") {
		t.Errorf("label of a Swarm not created yet: %+v, want %q and a note", r, want)
	}
	newSwarm(t, ns, "model")
	if r := run(ns, "label", "model"); r.code != 0 || r.out != want || r.err != "" {
		t.Errorf("label: %+v, want %q", r, want)
	}
	long := strings.Repeat("x", 60)
	if r := run(ns, "label", long); r.code != 1 || !strings.Contains(r.err, "invalid") {
		t.Errorf("label of a name too long for a label key: %+v, want exit 1", r)
	}
}

func TestWaitReturnsWhenEnoughNodesAreReady(t *testing.T) {
	ns := newNamespace(t)
	newSwarm(t, ns, "w")
	label := "ready.minibit.io/" + ns + ".w"
	setStatus(t, ns, "w", "Distributing", nodes(3, 0, 3, 0, label, "/c"))

	for _, tc := range []struct {
		name  string
		flags []string
		final int64 // ready at which the wait must end
	}{
		{"nodes", []string{"--nodes", "2"}, 2},
		{"all", []string{"--all"}, 3},
		{"default is all", nil, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setStatus(t, ns, "w", "Distributing", nodes(3, 0, 3, 0, label, "/c"))
			done := make(chan result, 1)
			go func() {
				done <- run(ns, append([]string{"wait", "w", "--interval", "50ms", "--timeout", "2m"}, tc.flags...)...)
			}()
			for ready := int64(1); ready <= tc.final; ready++ {
				select {
				case r := <-done:
					t.Fatalf("wait ended at %d ready nodes (want %d): %+v", ready-1, tc.final, r)
				case <-time.After(300 * time.Millisecond): // a few polls see the count
				}
				setStatus(t, ns, "w", "Distributing", nodes(3, ready, 3-ready, 0, label, "/c"))
			}
			select {
			case r := <-done:
				if r.code != 0 {
					t.Fatalf("wait: %+v, want exit 0", r)
				}
				last := fmt.Sprintf("swarm %s/w: %d/3 nodes ready", ns, tc.final)
				if !strings.Contains(r.out, "0/3 nodes ready") || !strings.Contains(r.out, "\n"+last) {
					t.Errorf("wait's progress lines %q lack the first counts or the final %q", r.out, last)
				}
			case <-time.After(time.Minute):
				t.Fatal("wait did not return once the status reached the goal")
			}
		})
	}
}

func TestWaitTimesOut(t *testing.T) {
	ns := newNamespace(t)
	newSwarm(t, ns, "slow")
	setStatus(t, ns, "slow", "Distributing", nodes(3, 1, 2, 0, "ready.minibit.io/"+ns+".slow", "/c"))
	r := run(ns, "wait", "slow", "--nodes", "2", "--timeout", "3s", "--interval", "100ms")
	if r.code != 1 || !strings.Contains(r.err, "timed out after 3s waiting for 2 nodes") || !strings.Contains(r.err, "1/3 nodes ready") {
		t.Errorf("wait: %+v, want exit 1 and a timeout that names the last counts", r)
	}
}

func TestWaitFailsWhenTheSwarmFails(t *testing.T) {
	ns := newNamespace(t)
	newSwarm(t, ns, "bad")
	failed := map[string]any{"type": "Failed", "status": "True", "reason": "TooManyNodeFailures",
		"message": "4 node failures, the policy tolerates 3", "lastTransitionTime": "2026-01-01T00:00:00Z"}
	setStatus(t, ns, "bad", "Distributing", nodes(5, 1, 0, 4, "ready.minibit.io/"+ns+".bad", "/c"))
	done := make(chan result, 1)
	go func() { done <- run(ns, "wait", "bad", "--all", "--interval", "50ms") }()
	time.Sleep(200 * time.Millisecond)
	setStatus(t, ns, "bad", "Failed", nodes(5, 1, 0, 4, "ready.minibit.io/"+ns+".bad", "/c"), failed)
	select {
	case r := <-done:
		if r.code != 1 || !strings.Contains(r.err, "Failed") || !strings.Contains(r.err, "the policy tolerates 3") {
			t.Errorf("wait: %+v, want exit 1 naming the failure", r)
		}
	case <-time.After(time.Minute):
		t.Fatal("wait did not end when the Swarm Failed")
	}
}

func TestWaitFailsWithoutTheSwarm(t *testing.T) {
	ns := newNamespace(t)
	r := run(ns, "wait", "nope", "--timeout", "1m")
	if r.code != 1 || !strings.Contains(r.err, "swarm "+ns+"/nope does not exist") {
		t.Errorf("wait: %+v, want exit 1 at once", r)
	}
}

func TestCommandsRefusePerPodSwarms(t *testing.T) {
	ns := newNamespace(t)
	newSwarmMode(t, ns, "pods", "PerPod")
	newSwarmMode(t, ns, "unplaced", "")
	for _, swarm := range []string{"pods", "unplaced"} {
		for _, cmd := range []string{"where", "path", "wait"} {
			if r := run(ns, cmd, swarm); r.code != 1 || !strings.Contains(r.err, "not a PerNode Swarm") {
				t.Errorf("%s of %s: %+v, want exit 1 naming PerNode", cmd, swarm, r)
			}
		}
	}
}

// A manager without --node-cache-root refuses a PerNode Swarm (Ready=False): no copy will come.
func TestWaitFailsWhenTheManagerRefusesTheSwarm(t *testing.T) {
	ns := newNamespace(t)
	newSwarm(t, ns, "refused")
	refused := map[string]any{"type": "Ready", "status": "False", "reason": "NodeCacheDisabled",
		"message": "the cluster admin starts the manager with --node-cache-root", "lastTransitionTime": "2026-01-01T00:00:00Z"}
	setStatus(t, ns, "refused", "Pending", nil, refused)
	r := run(ns, "wait", "refused", "--timeout", "1m")
	if r.code != 1 || !strings.Contains(r.err, "refused by the manager") || !strings.Contains(r.err, "NodeCacheDisabled") {
		t.Errorf("wait: %+v, want exit 1 at once with the Ready condition's reason", r)
	}
	if r := run(ns, "path", "refused"); r.code != 1 || !strings.Contains(r.err, "--node-cache-root") {
		t.Errorf("path: %+v, want exit 1 with the Ready condition's message", r)
	}
}

func TestWhereBeforeTheOperatorCounted(t *testing.T) {
	ns := newNamespace(t)
	newSwarm(t, ns, "new")
	if r := run(ns, "where", "new"); r.code != 0 || r.out != "" || !strings.Contains(r.err, "no node counts yet") {
		t.Errorf("where: %+v, want exit 0, no nodes, and no counts yet", r)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		code    int
		wantOut string
		wantErr string
	}{
		{[]string{"--help"}, 0, "kubectl minibit wait SWARM", ""},
		{[]string{"help"}, 0, "kubectl minibit where SWARM", ""},
		{nil, 2, "", "Usage:"},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"wait", "-h"}, 0, "-timeout duration", ""},
		{[]string{"where", "--help"}, 0, "-namespace string", ""},
		{[]string{"path", "--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{[]string{"path"}, 2, "", "want one SWARM name, got 0"},
		{[]string{"label", "a", "b"}, 2, "", "want one SWARM name, got 2"},
		{[]string{"wait", "x", "--nodes", "2", "--all"}, 2, "", "not both"},
		{[]string{"wait", "x", "--nodes", "-1"}, 2, "", "--nodes must be at least 1"},
	} {
		var out, errOut bytes.Buffer
		code := kubectlplugin.Run(context.Background(), tc.args, kubectlplugin.IO{Out: &out, Err: &errOut})
		if code != tc.code || !strings.Contains(out.String(), tc.wantOut) || !strings.Contains(errOut.String(), tc.wantErr) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, out.String(), errOut.String(), tc.code, tc.wantOut, tc.wantErr)
		}
	}
}

func TestLabelKey(t *testing.T) {
	if got, err := kubectlplugin.LabelKey("team-a", "weights"); err != nil || got != "ready.minibit.io/team-a.weights" {
		t.Errorf("LabelKey = %q, %v", got, err)
	}
	// 63 characters after the prefix is the most a label key's name part may hold.
	if _, err := kubectlplugin.LabelKey(strings.Repeat("a", 31), strings.Repeat("b", 31)); err != nil {
		t.Errorf("a 63-character name part: %v", err)
	}
	if _, err := kubectlplugin.LabelKey(strings.Repeat("a", 32), strings.Repeat("b", 31)); err == nil {
		t.Error("a 64-character name part: no error")
	}
}
