// Command origin serves one directory from the three kinds of origin internal/source fetches:
// over HTTP (each file at its relative path; --drop-every cuts responses mid-file), as an
// ORAS-style OCI artifact in its own in-process registry (go-containerregistry's), and as an S3
// bucket (gofakes3, in memory). It pushes the directory into its registry and bucket at start,
// then answers /healthz on the HTTP port with 200. For the e2e spec and the demo; not for
// production: the S3 server keeps the objects in memory and checks the access key, not the
// signature.
//
//	origin --dir D [--http :8080] [--registry :5000] [--s3 :9000] [--repo NAME] [--tag TAG]
//	       [--bucket NAME] [--access-key K] [--secret-key S] [--drop-every BYTES]
//	       [--generate-size BYTES --generate-files N --generate-seed S]
//
// With --generate-size it first writes generate.TreeLayout's model-like tree into --dir, so that
// a pod needs no volume and a test knows every byte it serves.
//
// It logs to stdout (log/slog) and exits on SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/minibit-io/minibit/internal/generate"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stdout, nil))
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		log.Error("Bad flags", "err", err)
		os.Exit(2)
	}
	if err := serveUntilSignal(log, cfg); err != nil {
		log.Error("Origin failed", "err", err)
		os.Exit(1)
	}
}

// serveUntilSignal runs the origin until SIGTERM or SIGINT.
func serveUntilSignal(log *slog.Logger, cfg config) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if cfg.genSize > 0 {
		layout := generate.TreeLayout(cfg.genSize, cfg.genFiles)
		if err := generate.WriteTree(cfg.dir, cfg.genSeed, layout, false); err != nil {
			return err
		}
		log.Info("Tree generated", "dir", cfg.dir, "files", len(layout), "bytes", cfg.genSize, "seed", cfg.genSeed)
	}
	return run(ctx, log, cfg, nil)
}

// config is the flags.
type config struct {
	dir                  string
	httpAddr, regAddr    string
	s3Addr               string
	repo, tag, bucket    string
	accessKey, secretKey string
	dropEvery            int64
	genSize              int64
	genFiles             int
	genSeed              uint64
}

// parseFlags reads the command line.
func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("origin", flag.ContinueOnError)
	fs.StringVar(&c.dir, "dir", "", "the directory to serve (required)")
	fs.StringVar(&c.httpAddr, "http", ":8080", "HTTP listen address (\"\" for none); also serves /healthz")
	fs.StringVar(&c.regAddr, "registry", ":5000", "OCI registry listen address (\"\" for none)")
	fs.StringVar(&c.s3Addr, "s3", ":9000", "S3 listen address (\"\" for none)")
	fs.StringVar(&c.repo, "repo", "payload", "repository of the artifact in the registry")
	fs.StringVar(&c.tag, "tag", "latest", "tag of the artifact")
	fs.StringVar(&c.bucket, "bucket", "payload", "S3 bucket holding the directory (keys are the relative paths)")
	fs.StringVar(&c.accessKey, "access-key", "", "S3 access key a request must be signed with (\"\" accepts any)")
	fs.StringVar(&c.secretKey, "secret-key", "", "S3 secret key (documented for clients; the server checks the access key only)")
	fs.Int64Var(&c.dropEvery, "drop-every", 0, "cut each HTTP response after this many body bytes (0: never), to test resuming")
	fs.Int64Var(&c.genSize, "generate-size", 0, "first write a generated model-like tree of this many bytes into --dir (0: serve --dir as it is)")
	fs.IntVar(&c.genFiles, "generate-files", 8, "files of the --generate-size tree (at least 4)")
	fs.Uint64Var(&c.genSeed, "generate-seed", 1, "content seed of the --generate-size tree")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.dir == "" || fs.NArg() != 0 {
		return c, errors.New("--dir is required and no arguments are taken")
	}
	if c.dropEvery < 0 || c.genSize < 0 {
		return c, fmt.Errorf("--drop-every and --generate-size must not be negative")
	}
	return c, nil
}
