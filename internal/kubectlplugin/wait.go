package kubectlplugin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Defaults of `wait`.
const (
	DefaultWaitTimeout  = 10 * time.Minute
	DefaultPollInterval = 2 * time.Second
)

// waitOptions are the flags of `wait`.
type waitOptions struct {
	nodes    int
	all      bool
	timeout  time.Duration
	interval time.Duration
}

// waitFlags is `wait SWARM`: poll the Swarm until enough nodes hold a verified copy.
func waitFlags(fs *flag.FlagSet) runFunc {
	var o waitOptions
	fs.IntVar(&o.nodes, "nodes", 0, "wait until at least this many nodes hold a verified copy (0: --all)")
	fs.BoolVar(&o.all, "all", false, "wait until every wanted node holds a verified copy (the default)")
	fs.DurationVar(&o.timeout, "timeout", DefaultWaitTimeout, "give up after this long")
	fs.DurationVar(&o.interval, "interval", DefaultPollInterval, "how often to read the Swarm's status")
	return func(ctx context.Context, connect func() (*conn, error), name string, io IO) error {
		if err := o.check(); err != nil {
			return err
		}
		c, err := connect()
		if err != nil {
			return err
		}
		return o.wait(ctx, c, name, io)
	}
}

// check refuses contradictory or out-of-range flags.
func (o *waitOptions) check() error {
	switch {
	case o.nodes < 0:
		return fmt.Errorf("%w: --nodes must be at least 1", errUsage)
	case o.nodes > 0 && o.all:
		return fmt.Errorf("%w: give --nodes N or --all, not both", errUsage)
	case o.timeout <= 0 || o.interval <= 0:
		return fmt.Errorf("%w: --timeout and --interval must be positive", errUsage)
	}
	return nil
}

// target is the goal in words.
func (o *waitOptions) target() string {
	if o.nodes > 0 {
		return fmt.Sprintf("%d nodes", o.nodes)
	}
	return "every wanted node"
}

// reached says whether the Swarm's nodes meet the goal.
func (o *waitOptions) reached(s swarmState) bool {
	n := s.nodes()
	if o.nodes > 0 {
		return int(n.Ready) >= o.nodes
	}
	return n.Wanted > 0 && n.Ready >= n.Wanted
}

// wait reads the Swarm every interval and prints a line whenever its counts change.
func (o *waitOptions) wait(parent context.Context, c *conn, name string, io IO) error {
	ctx, cancel := context.WithTimeout(parent, o.timeout)
	defer cancel()
	var last string
	var lastErr error
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	for {
		s, err := readSwarm(ctx, c, name)
		switch {
		case errors.Is(err, errNoSwarm) || apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
			return err // no retry mends these
		case err != nil && ctx.Err() == nil: // a transient API error: try again until the timeout
			if lastErr == nil {
				fmt.Fprintf(io.Err, "%v (retrying every %s)\n", err, o.interval)
			}
			lastErr = err
		case err == nil:
			lastErr = nil
			done, err := o.step(s, &last, io)
			if done || err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return o.gaveUp(parent, c.namespace+"/"+name, last, lastErr)
		case <-tick.C:
		}
	}
}

// step judges one reading of the Swarm: done, failed, or a progress line when the counts changed.
func (o *waitOptions) step(s swarmState, last *string, io IO) (bool, error) {
	if err := s.perNode(); err != nil {
		return false, err
	}
	if why := s.stopped(); why != "" {
		return false, errors.New(why)
	}
	if o.reached(s) {
		fmt.Fprintf(io.Out, "swarm %s: %s\n", s, s.counts())
		return true, nil
	}
	line := fmt.Sprintf("swarm %s: %s, waiting for %s", s, s.counts(), o.target())
	if line != *last {
		fmt.Fprintln(io.Out, line)
		if wanted := s.nodes().Wanted; *last == "" && o.nodes > 0 && wanted > 0 && o.nodes > int(wanted) {
			fmt.Fprintf(io.Err, "note: only %d nodes are wanted now; waiting for more to match\n", wanted)
		}
		*last = line
	}
	return false, nil
}

// gaveUp is the error when the wait for the swarm ns/name ends without reaching the goal.
func (o *waitOptions) gaveUp(parent context.Context, swarm string, last string, lastErr error) error {
	if parent.Err() != nil {
		return fmt.Errorf("interrupted while waiting for %s of swarm %s", o.target(), swarm)
	}
	msg := fmt.Sprintf("timed out after %s waiting for %s of swarm %s", o.timeout, o.target(), swarm)
	if last != "" {
		msg += "; last seen: " + last
	}
	if lastErr != nil {
		msg += fmt.Sprintf("; last error: %v", lastErr)
	}
	return errors.New(msg)
}
