//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/tracker/api"
)

// trackerPort is the tracker Service's port (controllers/names.go).
const trackerPort = 8080

// verifiedSHA matches the line a peer logs once its whole file is in place and hashed:
// `download verified sha256=<hex>` (internal/peer/complete.go).
var verifiedSHA = regexp.MustCompile(`download verified sha256=([0-9a-f]{64})`)

// peerVerifiedSHA256 returns the SHA-256 a peer pod reported for its finished copy.
func peerVerifiedSHA256(ctx context.Context, ns, pod string) (string, error) {
	logs, err := podLogs(ctx, ns, pod, false)
	if err != nil {
		return "", err
	}
	m := verifiedSHA.FindAllStringSubmatch(logs, -1)
	if len(m) == 0 {
		return "", fmt.Errorf("pod %s has not logged a verified download", pod)
	}
	return m[len(m)-1][1], nil
}

// expectEveryPeerVerified checks that every live peer pod of the swarm reported a copy whose
// SHA-256 is want, and returns how many did.
func expectEveryPeerVerified(ctx context.Context, sw *minibitv1alpha1.Swarm, want string) int {
	pods := rolePods(ctx, sw, rolePeer)
	Expect(pods).NotTo(BeEmpty())
	for _, p := range pods {
		got, err := peerVerifiedSHA256(ctx, sw.Namespace, p.Name)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(want), "pod %s holds a copy with another SHA-256", p.Name)
	}
	return len(pods)
}

// trackerSwarm reads the swarm as its tracker sees it, through the API server's service proxy
// (GET /api/v1/swarms/{name} of the tracker's JSON API).
func trackerSwarm(ctx context.Context, sw *minibitv1alpha1.Swarm) (api.Swarm, error) {
	raw, err := clientset.CoreV1().Services(sw.Namespace).
		ProxyGet("http", sw.Name+"-tracker", strconv.Itoa(trackerPort), api.SwarmPathPrefix+sw.Name, nil).
		DoRaw(ctx)
	if err != nil {
		return api.Swarm{}, fmt.Errorf("tracker API: %w", err)
	}
	var out api.Swarm
	if err := json.Unmarshal(raw, &out); err != nil {
		return api.Swarm{}, fmt.Errorf("tracker API answer: %w", err)
	}
	return out, nil
}

// leechersThatUploaded names the peer pods (not seeders) that served pieces to others, as their
// announces report: real peer-to-peer, not every piece from the seeder.
func leechersThatUploaded(sw api.Swarm, seederPrefix string) []string {
	var names []string
	for _, p := range sw.Peers {
		if p.Uploaded > 0 && p.Name != "" && !strings.HasPrefix(p.Name, seederPrefix) {
			names = append(names, p.Name)
		}
	}
	return names
}

// sourcesLine matches what a peer logs when its download completes: how many peers sent it
// blocks of verified pieces (internal/peer/complete.go).
var sourcesLine = regexp.MustCompile(`msg="Pieces came from peers".*? peers=(\d+)`)

// expectLogsShowSeveralSources checks that at least one peer pod's log says its pieces came from
// min or more peers: peer-to-peer seen from the peers themselves, not only from the tracker.
func expectLogsShowSeveralSources(ctx context.Context, sw *minibitv1alpha1.Swarm, min int) {
	best := 0
	for _, p := range rolePods(ctx, sw, rolePeer) {
		logs, err := podLogs(ctx, sw.Namespace, p.Name, false)
		Expect(err).NotTo(HaveOccurred())
		for _, m := range sourcesLine.FindAllStringSubmatch(logs, -1) {
			n, _ := strconv.Atoi(m[1])
			best = max(best, n)
		}
	}
	GinkgoWriter.Printf("most sources one peer logged: %d\n", best)
	Expect(best).To(BeNumerically(">=", min), "no peer pod logged pieces from %d or more peers", min)
}

// expectPeerToPeer waits until at least min peer pods have uploaded pieces to others (their
// announces carry the totals; the tracker heartbeat may lag the completion).
func expectPeerToPeer(ctx context.Context, sw *minibitv1alpha1.Swarm, min int) {
	Eventually(func(g Gomega) {
		ts, err := trackerSwarm(ctx, sw)
		g.Expect(err).NotTo(HaveOccurred())
		up := leechersThatUploaded(ts, sw.Name+"-seeder-")
		GinkgoWriter.Printf("peers that uploaded to others: %v\n", up)
		g.Expect(len(up)).To(BeNumerically(">=", min))
	}).WithContext(ctx).WithTimeout(scaled(90 * time.Second)).WithPolling(2 * time.Second).Should(Succeed())
}
