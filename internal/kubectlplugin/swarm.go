package kubectlplugin

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"unicode"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	corev1 "k8s.io/api/core/v1"
)

// swarmResource is the Swarm's API resource.
var swarmResource = schema.GroupVersionResource{Group: "swarm.minibit.io", Version: "v1alpha1", Resource: "swarms"}

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

// swarmState is what the plugin reads from a Swarm.
type swarmState struct {
	namespace, name string
	mode            string // spec.placement.mode; "" is PerPod
	phase           string
	failedMessage   string // the Failed condition's message, if any
	nodes           nodeCounts
	hasNodes        bool // status.nodes is set
}

// nodeCounts is status.nodes.
type nodeCounts struct {
	wanted, ready, downloading, failed int64
	label, path                        string
}

func (s *swarmState) String() string { return s.namespace + "/" + s.name }

// counts says how far the nodes are, for humans.
func (s *swarmState) counts() string {
	n := s.nodes
	if !s.hasNodes {
		return fmt.Sprintf("no node counts yet (phase %q)", s.phase)
	}
	return fmt.Sprintf("%d/%d nodes ready (%d downloading, %d failed)", n.ready, n.wanted, n.downloading, n.failed)
}

// labelKey is the label from status, else the one the operator names. A label in status that
// is not that key is refused: it goes into a label selector and into consumers' scripts.
func (s *swarmState) labelKey() (string, error) {
	want, err := LabelKey(s.namespace, s.name)
	if err != nil {
		return "", err
	}
	if s.nodes.label != "" && s.nodes.label != want {
		return "", fmt.Errorf("swarm %s has status.nodes.label %q, not the operator's %q: refusing it", s, s.nodes.label, want)
	}
	return want, nil
}

// stablePath is status.nodes.path, checked: absolute, clean, printable, ending in
// /by-name/<namespace>/<swarm> (a consumer mounts it).
func (s *swarmState) stablePath() (string, error) {
	p := s.nodes.path
	if p == "" {
		return "", fmt.Errorf("swarm %s has no status.nodes.path yet (the operator writes it once it acts on the Swarm; a manager without --node-cache-root refuses PerNode Swarms: see its Ready condition)", s)
	}
	suffix := "/by-name/" + s.namespace + "/" + s.name
	if !path.IsAbs(p) || path.Clean(p) != p || !strings.HasSuffix(p, suffix) ||
		strings.ContainsFunc(p, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return "", fmt.Errorf("swarm %s has status.nodes.path %q, not a clean absolute path ending in %s: refusing it", s, p, suffix)
	}
	return p, nil
}

// errNoSwarm is readSwarm's error when the Swarm does not exist.
var errNoSwarm = errors.New("does not exist")

// readSwarm reads the Swarm name in the connection's namespace.
func readSwarm(ctx context.Context, c *conn, name string) (*swarmState, error) {
	u, err := call(ctx, c, func(ctx context.Context) (*unstructured.Unstructured, error) {
		return c.dynamic.Resource(swarmResource).Namespace(c.namespace).Get(ctx, name, metav1.GetOptions{})
	})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("swarm %s/%s %w", c.namespace, name, errNoSwarm)
	}
	if err != nil {
		return nil, fmt.Errorf("reading swarm %s/%s: %w", c.namespace, name, err)
	}
	return parseSwarm(u), nil
}

// parseSwarm reads the fields the plugin uses; a missing or mistyped field reads as its zero.
func parseSwarm(u *unstructured.Unstructured) *swarmState {
	s := &swarmState{namespace: u.GetNamespace(), name: u.GetName()}
	obj := u.Object
	s.mode, _, _ = unstructured.NestedString(obj, "spec", "placement", "mode")
	s.phase, _, _ = unstructured.NestedString(obj, "status", "phase")
	nodes, found, _ := unstructured.NestedMap(obj, "status", "nodes")
	s.hasNodes = found
	s.nodes = nodeCounts{
		wanted:      nestedInt(nodes, "wanted"),
		ready:       nestedInt(nodes, "ready"),
		downloading: nestedInt(nodes, "downloading"),
		failed:      nestedInt(nodes, "failed"),
	}
	s.nodes.label, _, _ = unstructured.NestedString(nodes, "label")
	s.nodes.path, _, _ = unstructured.NestedString(nodes, "path")
	conds, _, _ := unstructured.NestedSlice(obj, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Failed" && m["status"] == "True" {
			s.failedMessage, _ = m["message"].(string)
		}
	}
	return s
}

// nestedInt reads an integer field of m (JSON numbers decode as int64, or float64 from some paths).
func nestedInt(m map[string]any, field string) int64 {
	switch v := m[field].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	default:
		return 0
	}
}

// perNode fails unless the Swarm places its peers per node.
func (s *swarmState) perNode() error {
	if s.mode != "" && s.mode != "PerNode" {
		return fmt.Errorf("swarm %s has spec.placement.mode %s: only a PerNode Swarm puts copies on nodes", s, s.mode)
	}
	if s.mode == "" && !s.hasNodes {
		return fmt.Errorf("swarm %s is not a PerNode Swarm (no spec.placement.mode: PerNode, no status.nodes)", s)
	}
	return nil
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
