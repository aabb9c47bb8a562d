package controllers

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// The pods' command lines are a contract with the engine's binaries: every argument the
// builders write must be one the real /peer and /tracker accept. Each pod's arguments are
// parsed by the binary itself, followed by -h, which exits 0 only when everything before it
// parsed.
func TestPodArgumentsParseWithTheRealBinaries(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin, "../cmd/peer", "../cmd/tracker")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the engine's binaries: %v\n%s", err, out)
	}
	swarms := map[string]*minibitv1alpha1.Swarm{
		"defaults":            makeSwarm("demo", "ns").Obj(),
		"every option":        makeSwarm("demo", "ns").ExitOnComplete().RateLimits("1Mi", "2Mi").PieceSize("1Mi").Obj(),
		"http source":         makeSwarm("demo", "ns").HTTP("http://files.local/a.bin", strings.Repeat("ab", 32)).Obj(),
		"claim source":        makeSwarm("demo", "ns").PVC("data", "models/a.bin").Obj(),
		"rarity choker, fast": makeSwarm("demo", "ns").Obj(),
	}
	swarms["rarity choker, fast"].Spec.Choking = minibitv1alpha1.Choking{Strategy: minibitv1alpha1.ChokingRarity}
	swarms["pinned content"] = makeSwarm("demo", "ns").HTTP("http://files.local/a.bin", strings.Repeat("ab", 32)).Obj()
	swarms["pinned content"].Status.InfoHash = strings.Repeat("0f", 20)
	for name, s := range swarms {
		pods := []*corev1.Pod{
			buildTrackerPod(s, PodDefaults{}, 0),
			buildSeederPod(s, PodDefaults{}, 0, 0),
			buildPeerPod(s, PodDefaults{}, 0, 0),
		}
		for _, pod := range pods {
			c := pod.Spec.Containers[0]
			binary := filepath.Join(bin, filepath.Base(c.Command[0]))
			args := append(append([]string(nil), c.Args...), "-h")
			out, err := exec.Command(binary, args...).CombinedOutput()
			if err != nil {
				t.Errorf("%s: %s %v does not parse: %v\n%s", name, c.Command[0], c.Args, err, out)
			}
		}
	}
}
