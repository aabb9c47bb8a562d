package kubectlplugin

import (
	"context"
	"errors"
	"flag"
	"fmt"
)

// whereFlags is `where SWARM`: the labelled nodes on stdout, the counts on stderr.
func whereFlags(*flag.FlagSet) runFunc {
	return func(ctx context.Context, connect func() (*conn, error), name string, io IO) error {
		c, s, err := readPerNode(ctx, connect, name)
		if err != nil {
			return err
		}
		label, err := s.labelKey()
		if err != nil {
			return err
		}
		nodes, err := readyNodes(ctx, c, label)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			fmt.Fprintln(io.Out, n)
		}
		fmt.Fprintf(io.Err, "swarm %s: %s; %d nodes labelled %s=true\n", s, s.counts(), len(nodes), label)
		return nil
	}
}

// pathFlags is `path SWARM`: status.nodes.path, the stable path on every node.
func pathFlags(*flag.FlagSet) runFunc {
	return func(ctx context.Context, connect func() (*conn, error), name string, io IO) error {
		_, s, err := readPerNode(ctx, connect, name)
		if err != nil {
			return err
		}
		p, err := s.stablePath()
		if err != nil {
			return err
		}
		fmt.Fprintln(io.Out, p)
		return nil
	}
}

// labelFlags is `label SWARM`: the node label key, from the Swarm's status or, before the
// operator wrote it (or before the Swarm exists), as the operator names it.
func labelFlags(*flag.FlagSet) runFunc {
	return func(ctx context.Context, connect func() (*conn, error), name string, io IO) error {
		c, err := connect()
		if err != nil {
			return err
		}
		s, err := readSwarm(ctx, c, name)
		var label string
		switch {
		case errors.Is(err, errNoSwarm):
			fmt.Fprintf(io.Err, "note: %v; its label will be:\n", err)
			label, err = LabelKey(c.namespace, name)
		case err != nil:
			return err
		default:
			label, err = s.labelKey()
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(io.Out, label)
		return nil
	}
}

// readPerNode connects and reads the Swarm name, which must be a PerNode Swarm.
func readPerNode(ctx context.Context, connect func() (*conn, error), name string) (*conn, swarmState, error) {
	c, err := connect()
	if err != nil {
		return nil, swarmState{}, err
	}
	s, err := readSwarm(ctx, c, name)
	if err != nil {
		return nil, swarmState{}, err
	}
	return c, s, s.perNode()
}
