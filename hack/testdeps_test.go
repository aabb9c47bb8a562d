// Package hack tests the scripts of hack/ that have no Go package of their own: test-deps.sh,
// which installs the Debian packages `make test` needs.
package hack

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The fakes of test-deps.sh's tests. They keep their state in $FAKE_STATE: "installed" holds
// the installed packages, one a line; "calls" gets one line per call of apt-get or sudo.
// $FAKE_UID is the user id that id -u prints; sudo sets it to 0 for the command it runs.
var fakes = map[string]string{
	"dpkg-query": `#!/bin/bash
pkg=${!#}
if grep -qx -- "$pkg" "$FAKE_STATE/installed"; then printf installed; exit 0; fi
echo "dpkg-query: no packages found matching $pkg" >&2
exit 1
`,
	"apt-get": `#!/bin/bash
echo "uid=$FAKE_UID DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-} apt-get $*" >> "$FAKE_STATE/calls"
if [[ $FAKE_UID != 0 ]]; then echo "E: Could not open lock file - are you root?" >&2; exit 100; fi
case $1 in
  update) exit "${FAKE_UPDATE_RC:-0}" ;;
  install)
    if [[ -n ${FAKE_INSTALL_FAILS:-} ]]; then echo "E: Unable to locate package x" >&2; exit 100; fi
    shift
    while [[ $# -gt 0 ]]; do
      case $1 in
        -o) shift ;;
        -*) ;;
        *) [[ -n ${FAKE_INSTALL_NOOP:-} ]] || echo "$1" >> "$FAKE_STATE/installed" ;;
      esac
      shift
    done ;;
esac
`,
	"id": `#!/bin/bash
[[ $1 == -u ]] && echo "$FAKE_UID"
`,
	"sudo": `#!/bin/bash
echo "sudo $*" >> "$FAKE_STATE/calls"
if [[ $1 == -n && -n ${FAKE_SUDO_PASSWORD:-} ]]; then echo "sudo: a password is required" >&2; exit 1; fi
[[ $1 == -n ]] && shift
FAKE_UID=0 exec "$@"
`,
}

// tools are the real commands that test-deps.sh and the fakes use besides the fakes.
var tools = []string{"bash", "env", "cat", "grep", "mktemp", "rm", "tail", "true"}

// depsEnv is one run of test-deps.sh on a fake machine.
type depsEnv struct {
	uid       string   // what id -u prints
	installed []string // the packages installed before the run
	omit      []string // fakes this machine lacks (sudo, apt-get, dpkg-query)
	env       []string // more environment variables
}

// depsRun is what a run did: its exit code, its standard error, the calls of apt-get and sudo,
// and the packages installed after it.
type depsRun struct {
	code      int
	stderr    string
	calls     []string
	installed []string
}

// fakeMachine is a PATH holding only the fakes and the tools, and the fakes' state folder.
type fakeMachine struct {
	path, state string
}

// newFakeMachine lays out the fake machine of e in a temporary folder.
func newFakeMachine(t *testing.T, e depsEnv) fakeMachine {
	t.Helper()
	dir := t.TempDir()
	fakeBin, toolBin := filepath.Join(dir, "fake"), filepath.Join(dir, "tools")
	m := fakeMachine{path: fakeBin + ":" + toolBin, state: filepath.Join(dir, "state")}
	for _, d := range []string{fakeBin, toolBin, m.state} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, script := range fakes {
		if slices.Contains(e.omit, name) {
			continue
		}
		if err := os.WriteFile(filepath.Join(fakeBin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range tools {
		path, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("the test needs %s: %v", name, err)
		}
		if err := os.Symlink(path, filepath.Join(toolBin, name)); err != nil {
			t.Fatal(err)
		}
	}
	writeLines(t, filepath.Join(m.state, "installed"), e.installed)
	return m
}

// run runs hack/test-deps.sh on the machine as user e.uid with e.env, and returns what it did.
func (m fakeMachine) run(t *testing.T, e depsEnv) depsRun {
	t.Helper()
	writeLines(t, filepath.Join(m.state, "calls"), nil)
	var stderr bytes.Buffer
	cmd := exec.Command("./test-deps.sh")
	cmd.Env = append([]string{"PATH=" + m.path, "FAKE_STATE=" + m.state, "FAKE_UID=" + e.uid}, e.env...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if len(out) > 0 {
		t.Errorf("test-deps.sh printed %q on its standard output, want nothing", out)
	}
	r := depsRun{stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if r.stderr != "" {
		t.Logf("test-deps.sh exited %d and printed:\n%s", r.code, r.stderr)
	}
	r.calls = readLines(t, filepath.Join(m.state, "calls"))
	r.installed = readLines(t, filepath.Join(m.state, "installed"))
	return r
}

// runDeps runs hack/test-deps.sh on the fake machine of e, where it can reach neither the real
// apt-get nor sudo. With twice it runs the script a second time on the machine the first run
// left, and returns that second run.
func runDeps(t *testing.T, e depsEnv, twice bool) depsRun {
	t.Helper()
	m := newFakeMachine(t, e)
	r := m.run(t, e)
	if twice {
		r = m.run(t, e)
	}
	return r
}

// writeLines writes lines to path, one a line.
func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	text := strings.Join(lines, "\n")
	if text != "" {
		text += "\n"
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readLines returns the lines of the file at path that are not blank, trimmed.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// depsPackages is the script's own list of packages (test-deps.sh --list).
func depsPackages(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("./test-deps.sh", "--list").Output()
	if err != nil {
		t.Fatalf("test-deps.sh --list: %v", err)
	}
	var pkgs []string
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) > 0 {
			pkgs = append(pkgs, f[0])
		}
	}
	if len(pkgs) == 0 {
		t.Fatal("test-deps.sh --list printed no package")
	}
	return pkgs
}

const (
	update  = "DEBIAN_FRONTEND=noninteractive apt-get update -qq"
	install = "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "
)

func TestDepsAllInstalledIsQuiet(t *testing.T) {
	r := runDeps(t, depsEnv{uid: "1000", installed: depsPackages(t), omit: []string{"sudo"}}, false)
	if r.code != 0 || r.stderr != "" || len(r.calls) != 0 {
		t.Fatalf("with every package installed: exit %d, calls %q, printed:\n%s", r.code, r.calls, r.stderr)
	}
}

func TestDepsRootInstallsOnlyTheMissing(t *testing.T) {
	pkgs := depsPackages(t)
	have := pkgs[2:]
	r := runDeps(t, depsEnv{uid: "0", installed: have}, false)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	want := []string{
		"uid=0 " + update,
		"uid=0 " + install + strings.Join(pkgs[:2], " "),
	}
	if diff := cmp.Diff(want, r.calls); diff != "" {
		t.Errorf("calls mismatch (-want +got):\n%s", diff)
	}
	for _, p := range pkgs[:2] {
		if !slices.Contains(r.installed, p) {
			t.Errorf("%s not installed after the run", p)
		}
		if !strings.Contains(r.stderr, p+" ") {
			t.Errorf("the run does not say it installs %s:\n%s", p, r.stderr)
		}
	}
	for _, p := range have {
		if strings.Contains(r.stderr, p) {
			t.Errorf("the run names %s, which was installed:\n%s", p, r.stderr)
		}
	}
}

func TestDepsSecondRunIsQuiet(t *testing.T) {
	r := runDeps(t, depsEnv{uid: "0"}, true)
	if r.code != 0 || r.stderr != "" || len(r.calls) != 0 {
		t.Fatalf("second run: exit %d, calls %q, printed:\n%s", r.code, r.calls, r.stderr)
	}
}

func TestDepsUserWithSudo(t *testing.T) {
	pkgs := depsPackages(t)
	r := runDeps(t, depsEnv{uid: "1000", installed: pkgs[1:]}, false)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	want := []string{
		"sudo -n true",
		"sudo -n env " + update,
		"uid=0 " + update,
		"sudo -n env " + install + pkgs[0],
		"uid=0 " + install + pkgs[0],
	}
	if diff := cmp.Diff(want, r.calls); diff != "" {
		t.Errorf("calls mismatch (-want +got):\n%s", diff)
	}
}

func TestDepsCannotInstall(t *testing.T) {
	pkgs := depsPackages(t)
	for _, tc := range []struct {
		name string
		env  depsEnv
		why  string
		hint string
	}{
		{"no sudo", depsEnv{uid: "1000", omit: []string{"sudo"}}, "sudo is not installed", "apt-get install -y --no-install-recommends "},
		{"sudo wants a password", depsEnv{uid: "1000", env: []string{"FAKE_SUDO_PASSWORD=1"}}, "sudo -n is refused", "apt-get install -y --no-install-recommends "},
		{"no apt-get", depsEnv{uid: "0", omit: []string{"apt-get"}}, "not Debian", "SKIP_TEST_DEPS=1"},
		{"no dpkg-query", depsEnv{uid: "0", omit: []string{"dpkg-query"}}, "not Debian", "SKIP_TEST_DEPS=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runDeps(t, tc.env, false)
			if r.code == 0 {
				t.Fatalf("exit 0, want a failure:\n%s", r.stderr)
			}
			for _, s := range append([]string{tc.why, tc.hint}, pkgs...) {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("the message lacks %q:\n%s", s, r.stderr)
				}
			}
			for _, c := range r.calls {
				if strings.Contains(c, "apt-get") {
					t.Errorf("apt-get was called: %s", c)
				}
			}
		})
	}
}

func TestDepsAptFails(t *testing.T) {
	for _, tc := range []struct {
		name, env, say string
	}{
		{"install fails", "FAKE_INSTALL_FAILS=1", "Unable to locate package"},
		{"update fails", "FAKE_UPDATE_RC=100", "apt-get failed (exit 100)"},
		{"package still missing", "FAKE_INSTALL_NOOP=1", "still not installed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runDeps(t, depsEnv{uid: "0", env: []string{tc.env}}, false)
			if r.code == 0 || !strings.Contains(r.stderr, tc.say) {
				t.Fatalf("exit %d, want a failure saying %q:\n%s", r.code, tc.say, r.stderr)
			}
		})
	}
}

func TestDepsChromiumFromEnv(t *testing.T) {
	var others []string
	for _, p := range depsPackages(t) {
		if p != "chromium" {
			others = append(others, p)
		}
	}
	r := runDeps(t, depsEnv{uid: "0", installed: others, env: []string{"CHROMIUM=/bin/true"}}, false)
	if r.code != 0 || r.stderr != "" || len(r.calls) != 0 {
		t.Fatalf("with $CHROMIUM an executable: exit %d, calls %q, printed:\n%s", r.code, r.calls, r.stderr)
	}
	r = runDeps(t, depsEnv{uid: "0", installed: others, env: []string{"CHROMIUM=/nonexistent/chromium"}}, false)
	if r.code != 0 || !slices.Contains(r.installed, "chromium") {
		t.Fatalf("with $CHROMIUM missing: exit %d, installed %q, printed:\n%s", r.code, r.installed, r.stderr)
	}
}

func TestDepsSkip(t *testing.T) {
	r := runDeps(t, depsEnv{uid: "1000", omit: []string{"apt-get", "dpkg-query", "sudo"}, env: []string{"SKIP_TEST_DEPS=1"}}, false)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("SKIP_TEST_DEPS=1: exit %d, printed:\n%s", r.code, r.stderr)
	}
}

// TestDepsREADME checks that the README names every package that make test installs.
func TestDepsREADME(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range depsPackages(t) {
		if !bytes.Contains(readme, []byte("`"+p+"`")) {
			t.Errorf("README.md does not name %s, which make test installs (hack/test-deps.sh)", p)
		}
	}
}
