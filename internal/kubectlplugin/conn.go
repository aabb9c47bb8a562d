package kubectlplugin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// connFlags are the kubeconfig flags every command takes, as kubectl names them.
type connFlags struct {
	kubeconfig, context, namespace string
	requestTimeout                 time.Duration
}

func (f *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "path of the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&f.context, "context", "", "kubeconfig context to use (default: the current context)")
	fs.StringVar(&f.namespace, "namespace", "", "namespace of the Swarm (default: the context's namespace)")
	fs.StringVar(&f.namespace, "n", "", "short for --namespace")
	fs.DurationVar(&f.requestTimeout, "request-timeout", DefaultRequestTimeout, "timeout of each API call")
}

// conn is a connection to the API server.
type conn struct {
	dynamic   dynamic.Interface
	core      kubernetes.Interface
	namespace string
	timeout   time.Duration
}

// connect loads the kubeconfig the way kubectl does and makes the clients.
func (f *connFlags) connect() (*conn, error) {
	if f.requestTimeout <= 0 {
		return nil, errors.New("--request-timeout must be positive")
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: f.context}
	overrides.Context.Namespace = f.namespace
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	cfg.Timeout = f.requestTimeout // the HTTP client's bound; each call also has a context deadline
	cfg.UserAgent = "kubectl-minibit"
	c := &conn{namespace: ns, timeout: f.requestTimeout}
	if c.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.core, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// call runs one API call under the request timeout.
func call[T any](ctx context.Context, c *conn, f func(ctx context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return f(ctx)
}
