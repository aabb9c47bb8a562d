package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The peer binary talks to the tracker through its client only: it links neither the tracker's
// server nor the dashboard the server embeds.
func TestThePeerLinksNoTrackerServer(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not available:", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, gobin, "list", "-e", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const module = "github.com/minibit-io/minibit/"
	deps := map[string]bool{}
	for dep := range strings.FieldsSeq(string(out)) {
		deps[dep] = true
	}
	if !deps[module+"internal/tracker/client"] {
		t.Fatalf("go list -deps does not list the tracker's client; the check below would prove nothing:\n%s", out)
	}
	for _, banned := range []string{"internal/tracker", "internal/dashboard"} {
		if deps[module+banned] {
			t.Errorf("the peer binary links %s", module+banned)
		}
	}
}
