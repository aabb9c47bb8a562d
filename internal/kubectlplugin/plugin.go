// Package kubectlplugin is `kubectl minibit`: a consumer's view of a PerNode Swarm. It says
// which nodes hold a verified copy (where), the stable path a workload mounts (path), the node
// label a Deployment selects on (label), and waits until enough nodes hold the copy (wait).
//
// It reads the Swarm (api/v1alpha1: spec.placement.mode, status.phase, status.nodes and the
// Ready and Failed conditions) with a dynamic client, so that it needs no API discovery, and the
// Nodes by the label, with the standard kubeconfig loading (KUBECONFIG, --kubeconfig,
// --context, -n/--namespace, the current context's namespace). Every API call has a timeout
// (--request-timeout).
package kubectlplugin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Exit codes of Run.
const (
	// ExitOK: the command did what it was asked.
	ExitOK = 0
	// ExitFailed: the Swarm is missing or Failed, the wait timed out, or the API failed.
	ExitFailed = 1
	// ExitUsage: the command line is wrong.
	ExitUsage = 2
)

// DefaultRequestTimeout bounds every API call.
const DefaultRequestTimeout = 10 * time.Second

// IO is where a command writes: results on Out, counts, progress and errors on Err.
type IO struct {
	Out, Err io.Writer
}

// command is one subcommand.
type command struct {
	name, args, short string
	// flags registers the command's own flags and returns the command, which checks its flags,
	// connects and runs on the swarm named in the arguments.
	flags func(fs *flag.FlagSet) runFunc
}

// runFunc runs a command; connect loads the kubeconfig and makes the clients.
type runFunc func(ctx context.Context, connect func() (*conn, error), swarm string, io IO) error

var commands = []command{
	{"where", "SWARM", "list the nodes that hold a verified copy (one per line); counts on stderr", whereFlags},
	{"path", "SWARM", "print the stable path of the copy on the nodes, what a workload mounts", pathFlags},
	{"wait", "SWARM [--nodes N | --all] [--timeout 10m]", "wait until enough nodes hold a verified copy", waitFlags},
	{"label", "SWARM", "print the node label key that marks a node holding the copy", labelFlags},
}

// Run runs `kubectl minibit ARGS...` and returns the exit code.
func Run(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 {
		usage(io.Err)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(io.Out)
		return ExitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return runCommand(ctx, c, args[1:], io)
		}
	}
	fmt.Fprintf(io.Err, "kubectl minibit: unknown command %q\n\n", args[0])
	usage(io.Err)
	return ExitUsage
}

// usage writes the list of commands.
func usage(w io.Writer) {
	fmt.Fprint(w, `kubectl minibit: which nodes hold a verified copy of a PerNode Swarm's file (or directory), where it is on
them, and a wait until enough of them do.

Usage:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  kubectl minibit %s %s\n      %s\n", c.name, c.args, c.short)
	}
	fmt.Fprint(w, `
Every command takes --kubeconfig, --context, -n/--namespace and --request-timeout (the bound of
each API call, default 10s); `+"`kubectl minibit COMMAND -h`"+` lists a command's flags.
Exit status: 0 done, 1 failed (no such Swarm, Swarm Failed, timed out, API error), 2 usage.
`)
}

// runCommand parses a command's flags, connects and runs it.
func runCommand(ctx context.Context, c command, args []string, io IO) int {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	var cf connFlags
	cf.register(fs)
	run := c.flags(fs)
	fs.Usage = func() {} // printed below, on stdout for -h and on stderr after an error
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(io.Out, c, fs)
		return ExitOK
	}
	if err != nil {
		commandUsage(io.Err, c, fs) // after the flag package's error
		return ExitUsage
	}
	if len(positional) != 1 {
		fmt.Fprintf(io.Err, "kubectl minibit %s: want one SWARM name, got %d arguments\n", c.name, len(positional))
		commandUsage(io.Err, c, fs)
		return ExitUsage
	}
	if err := run(ctx, cf.connect, positional[0], io); err != nil {
		fmt.Fprintf(io.Err, "kubectl minibit %s: %v\n", c.name, err)
		if errors.Is(err, errUsage) {
			return ExitUsage
		}
		return ExitFailed
	}
	return ExitOK
}

// commandUsage writes a command's usage and flags.
func commandUsage(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: kubectl minibit %s %s\n\n%s.\n\nFlags:\n", c.name, c.args, upperFirst(c.short))
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// errUsage marks an error in the command line found after parsing.
var errUsage = errors.New("usage")

// parseInterspersed parses flags before and after the positional arguments, as kubectl does
// (`wait SWARM --nodes 3`); everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		before := len(args)
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := before - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
