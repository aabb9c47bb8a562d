package kubectlplugin

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// swarmResource is the Swarm's API resource.
var swarmResource = minibitv1alpha1.GroupVersion.WithResource("swarms")

// LabelPrefix is the prefix of the node label that marks a node holding a Swarm's verified copy:
// the key is LabelPrefix + "<namespace>.<swarm>", the value "true".
const LabelPrefix = "ready.minibit.io/"

// LabelKey is the node label key of the Swarm namespace/name. The name part of a label key is at
// most 63 characters: the operator refuses a PerNode Swarm whose key would be longer.
func LabelKey(namespace, name string) (string, error) {
	key := LabelPrefix + namespace + "." + name
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		return "", fmt.Errorf("the node label key %q of swarm %s/%s is invalid (%s): the operator refuses this PerNode Swarm",
			key, namespace, name, strings.Join(errs, "; "))
	}
	return key, nil
}

// swarmState is a Swarm as the plugin reads it.
type swarmState struct {
	*minibitv1alpha1.Swarm
}

func (s swarmState) String() string { return s.Namespace + "/" + s.Name }

// nodes is status.nodes, zero before the operator wrote it.
func (s swarmState) nodes() minibitv1alpha1.NodesStatus {
	if s.Status.Nodes == nil {
		return minibitv1alpha1.NodesStatus{}
	}
	return *s.Status.Nodes
}

// counts says how far the nodes are, for humans.
func (s swarmState) counts() string {
	if s.Status.Nodes == nil {
		return fmt.Sprintf("no node counts yet (phase %q)", s.Status.Phase)
	}
	n := s.Status.Nodes
	return fmt.Sprintf("%d/%d nodes ready (%d downloading, %d failed)", n.Ready, n.Wanted, n.Downloading, n.Failed)
}

// labelKey is the operator's node label key. A status.nodes.label that is another key is
// refused: it goes into a label selector and into consumers' scripts.
func (s swarmState) labelKey() (string, error) {
	want, err := LabelKey(s.Namespace, s.Name)
	if err != nil {
		return "", err
	}
	if got := s.nodes().Label; got != "" && got != want {
		return "", fmt.Errorf("swarm %s has status.nodes.label %q, not the operator's %q: refusing it", s, got, want)
	}
	return want, nil
}

// stablePath is status.nodes.path, checked: absolute, clean, printable, ending in
// /by-name/<namespace>/<swarm> (a consumer mounts it).
func (s swarmState) stablePath() (string, error) {
	p := s.nodes().Path
	if p == "" {
		return "", fmt.Errorf("swarm %s has no status.nodes.path yet (the operator writes it once it accepts the Swarm: %s)", s, s.readiness())
	}
	suffix := "/by-name/" + s.Namespace + "/" + s.Name
	if !path.IsAbs(p) || path.Clean(p) != p || !strings.HasSuffix(p, suffix) ||
		strings.ContainsFunc(p, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return "", fmt.Errorf("swarm %s has status.nodes.path %q, not a clean absolute path ending in %s: refusing it", s, p, suffix)
	}
	return p, nil
}

// perNode fails unless the Swarm places its peers per node.
func (s swarmState) perNode() error {
	if s.Spec.Placement == nil || s.Spec.Placement.Mode != minibitv1alpha1.PlacementPerNode {
		return fmt.Errorf("swarm %s is not a PerNode Swarm (spec.placement.mode): its copies are in its pods, not on nodes", s)
	}
	return nil
}

// readiness describes the Ready condition, for messages.
func (s swarmState) readiness() string {
	c := meta.FindStatusCondition(s.Status.Conditions, minibitv1alpha1.ConditionReady)
	if c == nil {
		return "no Ready condition yet"
	}
	return fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
}

// stopped says why the Swarm will not put (more) copies on nodes: it Failed, or the manager
// refused it (Ready=False: no node cache, or a node label too long). "" while it may.
func (s swarmState) stopped() string {
	if s.Status.Phase == minibitv1alpha1.PhaseFailed {
		msg := "no Failed condition"
		if c := meta.FindStatusCondition(s.Status.Conditions, minibitv1alpha1.ConditionFailed); c != nil {
			msg = c.Reason + ": " + c.Message
		}
		return fmt.Sprintf("swarm %s Failed with %s (%s)", s, s.counts(), msg)
	}
	if meta.IsStatusConditionFalse(s.Status.Conditions, minibitv1alpha1.ConditionReady) {
		return fmt.Sprintf("swarm %s was refused by the manager (%s)", s, s.readiness())
	}
	return ""
}

// errNoSwarm is readSwarm's error when the Swarm does not exist.
var errNoSwarm = errors.New("does not exist")

// readSwarm reads the Swarm name in the connection's namespace.
func readSwarm(ctx context.Context, c *conn, name string) (swarmState, error) {
	u, err := call(ctx, c, func(ctx context.Context) (*unstructured.Unstructured, error) {
		return c.dynamic.Resource(swarmResource).Namespace(c.namespace).Get(ctx, name, metav1.GetOptions{})
	})
	if apierrors.IsNotFound(err) {
		return swarmState{}, fmt.Errorf("swarm %s/%s %w", c.namespace, name, errNoSwarm)
	}
	if err != nil {
		return swarmState{}, fmt.Errorf("reading swarm %s/%s: %w", c.namespace, name, err)
	}
	var s minibitv1alpha1.Swarm
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &s); err != nil {
		return swarmState{}, fmt.Errorf("reading swarm %s/%s: %w", c.namespace, name, err)
	}
	return swarmState{&s}, nil
}

// readyNodes lists the names of the nodes that carry the label, sorted.
func readyNodes(ctx context.Context, c *conn, label string) ([]string, error) {
	list, err := call(ctx, c, func(ctx context.Context) (*corev1.NodeList, error) {
		return c.core.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: label + "=true"})
	})
	if err != nil {
		return nil, fmt.Errorf("listing the nodes labelled %s=true: %w", label, err)
	}
	names := make([]string, 0, len(list.Items))
	for _, n := range list.Items {
		names = append(names, n.Name)
	}
	sort.Strings(names)
	return names, nil
}
