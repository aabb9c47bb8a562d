package source

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The package (and so the peer binary) links the clients only: the test servers of sourcetest
// (gofakes3, go-containerregistry's registry) stay out of it.
func TestSourceLinksNoTestServer(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not available:", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, gobin, "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !strings.Contains(string(out), "github.com/minio/minio-go/v7\n") {
		t.Fatalf("go list -deps does not list minio-go; the check below would prove nothing")
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, "github.com/johannesboyne/gofakes3") ||
			dep == "github.com/google/go-containerregistry/pkg/registry" ||
			strings.HasSuffix(dep, "/internal/source/sourcetest") {
			t.Errorf("internal/source links %s", dep)
		}
	}
}
