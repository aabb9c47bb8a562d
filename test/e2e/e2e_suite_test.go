//go:build e2e

// Package e2e is MiniBit's end-to-end suite: against the cluster KUBECONFIG points to, with the
// operator deployed from config/, real pods trade pieces over TCP until every peer holds a
// verified copy, while pods are deleted under them.
//
//	make test-e2e             (the local cluster of make cluster-up, image loaded by make cluster-load)
//	make test-e2e KIND=1      (a kind cluster, for users with Docker)
//
// Environment: IMG (image, default minibit:dev), E2E_SKIP_DEPLOY=1 (the operator is already
// deployed), E2E_KEEP=1 (leave the operator and failed namespaces in place for debugging),
// E2E_TIMEOUT_SCALE (multiplies every timeout; default 1, sized for a 2-core machine).
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// Shared by every spec; written once in BeforeSuite, read-only afterwards.
var (
	k8s       client.Client
	clientset *kubernetes.Clientset
	restCfg   *rest.Config
	// operator is the manager's Deployment as config/ renders it.
	operator client.ObjectKey
	repoRoot string
	// timeScale multiplies every timeout (E2E_TIMEOUT_SCALE); read before the specs are built.
	timeScale = envTimeScale()
)

// envTimeScale reads E2E_TIMEOUT_SCALE: a positive factor, 1 when unset or invalid.
func envTimeScale() float64 {
	f, err := strconv.ParseFloat(os.Getenv("E2E_TIMEOUT_SCALE"), 64)
	if err != nil || f <= 0 {
		return 1
	}
	return f
}

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	suite, reporter := GinkgoConfiguration()
	if suite.Timeout == time.Hour { // Ginkgo's default: leave room for go test's own -timeout
		suite.Timeout = 55 * time.Minute
	}
	RunSpecs(t, "MiniBit e2e", suite, reporter)
}

// scaled stretches a timeout by E2E_TIMEOUT_SCALE, for slower machines.
func scaled(d time.Duration) time.Duration { return time.Duration(float64(d) * timeScale) }

var _ = BeforeSuite(func(ctx SpecContext) {
	wd, err := os.Getwd()
	Expect(err).NotTo(HaveOccurred())
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))

	restCfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		clientcmd.NewDefaultClientConfigLoadingRules(), nil).ClientConfig()
	Expect(err).NotTo(HaveOccurred(), "KUBECONFIG must point to a cluster")
	restCfg.QPS, restCfg.Burst = 50, 100
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(minibitv1alpha1.AddToScheme(scheme)).To(Succeed())
	k8s, err = client.New(restCfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	clientset, err = kubernetes.NewForConfig(restCfg)
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Printf("cluster: %s\n", restCfg.Host)

	operator = operatorDeployment()
	if os.Getenv("E2E_SKIP_DEPLOY") == "" {
		By("deploying the operator from config/ with imagePullPolicy Never")
		runDeploy("apply")
	}
	By("waiting for the operator to be Available")
	Eventually(func(g Gomega) {
		var d appsv1.Deployment
		g.Expect(k8s.Get(ctx, operator, &d)).To(Succeed())
		g.Expect(deploymentAvailable(&d)).To(BeTrue(), "deployment %s not Available yet", operator)
	}).WithContext(ctx).WithTimeout(scaled(3*time.Minute)).WithPolling(time.Second).Should(Succeed(),
		func() string { return operatorDiagnostics(context.Background()) })
}, NodeTimeout(10*time.Minute))

var _ = AfterSuite(func() {
	if os.Getenv("E2E_SKIP_DEPLOY") == "" && os.Getenv("E2E_KEEP") == "" && k8s != nil {
		By("removing the operator")
		runDeploy("delete")
	}
})

// ReportAfterSuite prints each case's time, for the project's notes.
var _ = ReportAfterSuite("case times", func(r Report) {
	for _, s := range r.SpecReports {
		if s.LeafNodeType == types.NodeTypeIt {
			fmt.Fprintf(os.Stdout, "e2e case %-70q %-7s %6.1fs\n", s.FullText(), s.State, s.RunTime.Seconds())
		}
	}
})

// runDeploy runs hack/cluster/deploy.sh (apply, delete) with IMG and PULL_POLICY=Never.
func runDeploy(action string) {
	cmd := exec.Command(filepath.Join(repoRoot, "hack/cluster/deploy.sh"), action)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "PULL_POLICY=Never")
	out, err := cmd.CombinedOutput()
	GinkgoWriter.Printf("deploy.sh %s:\n%s\n", action, out)
	Expect(err).NotTo(HaveOccurred(), "deploy.sh %s", action)
}

// operatorDeployment finds the manager's Deployment in what config/ renders.
func operatorDeployment() client.ObjectKey {
	cmd := exec.Command(filepath.Join(repoRoot, "hack/cluster/deploy.sh"), "build")
	cmd.Dir = repoRoot
	cmd.Stderr = GinkgoWriter
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "rendering config/default")
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(out)), 4096)
	for {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := dec.Decode(&obj); err != nil {
			break
		}
		if obj.Kind == "Deployment" {
			return client.ObjectKey{Namespace: obj.Metadata.Namespace, Name: obj.Metadata.Name}
		}
	}
	Fail("config/default renders no Deployment")
	return client.ObjectKey{}
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return c.Status == corev1.ConditionTrue && d.Status.ObservedGeneration >= d.Generation
		}
	}
	return false
}

// image is the image under test: IMG, or minibit:dev.
func image() string {
	if v := os.Getenv("IMG"); v != "" {
		return v
	}
	return "minibit:dev"
}

// keepOnFailure says whether a failed spec's namespace stays for debugging (E2E_KEEP=1).
func keepOnFailure() bool { return os.Getenv("E2E_KEEP") != "" }
