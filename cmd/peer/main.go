// Command peer is one MiniBit peer: it generates demo files, creates .torrent files, seeds a
// file, or downloads one from the swarm (fetching the .torrent from the tracker by name), with
// /metrics and /healthz for Kubernetes.
//
//	peer generate --size 64MiB --seed 1 --out FILE
//	peer create --piece-size 256KiB --announce URL --name NAME --out FILE.torrent FILE
//	peer seed --file FILE [--torrent F.torrent | --tracker URL --swarm NAME [--publish-secret-file F]]
//	          [--url URL [--max-bytes N]] [--info-hash HEX]
//	peer get --dir DIR [--torrent F.torrent | --tracker URL --swarm NAME] [--info-hash HEX]
//	         [--sha256 HEX] [--exit-on-complete]
//	peer get --cache-root DIR --cache-name NAMESPACE/SWARM [--cache-retention 1h] ...
//	peer cache-prepare --cache-root DIR --uid UID
//	peer cache-release --cache-root DIR --cache-name NAMESPACE/SWARM
//	peer cache-gc --cache-root DIR [--cache-retention 1h]
//
// --info-hash pins the swarm's content: a torrent with another v1 info-hash is refused, whoever
// stored it at the tracker. get --sha256 checks the finished file before the peer calls itself
// complete. With --cache-root, get keeps the file in the node cache (internal/nodecache); the
// cache-* commands prepare the cache, release one Swarm's name and clean it up. A failure's
// message is also written to /dev/termination-log when it exists (a pod's termination message).
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
)

// exitUsage is the exit code of a command line error.
const exitUsage = 2

// commands maps each subcommand to its function.
var commands = map[string]func(ctx context.Context, args []string) error{
	"generate": runGenerate,
	"create":   runCreate,
	"seed":     runSeed,
	"get":      runGet,

	"cache-prepare": runCachePrepare,
	"cache-release": runCacheRelease,
	"cache-gc":      runCacheGC,
	"checksum":      runChecksum,
}

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: peer generate|create|seed|get|cache-prepare|cache-release|cache-gc [flags]  (peer <command> -h for its flags)")
		os.Exit(exitUsage)
	}
	os.Exit(finish(os.Args[1], run(os.Args[1], os.Args[2:])))
}

// finish reports how a command ended and returns the process's exit code: 0, exitUsage for a
// command line error, 1 for a failure (logged, and written as the termination message).
func finish(command string, err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, err)
		return exitUsage
	}
	slog.Error("peer "+command+" failed", "err", err)
	writeTerminationMessage(err.Error())
	return 1
}

// run runs one subcommand until it ends or SIGINT/SIGTERM arrives.
func run(command string, args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return commands[command](ctx, args)
}

// usageError is a bad command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{msg: fmt.Sprintf(format, args...)}
}
