// Command kubectl-minibit is the `kubectl minibit` plugin: where, path, wait and label for a
// PerNode Swarm's copies (internal/kubectlplugin). kubectl runs it when it is on PATH.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/minibit-io/minibit/internal/kubectlplugin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := kubectlplugin.Run(ctx, os.Args[1:], kubectlplugin.IO{Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
