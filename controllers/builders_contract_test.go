package controllers

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/swarmtest"
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
		"defaults":            swarmtest.MakeSwarm("demo", "ns").Obj(),
		"every option":        swarmtest.MakeSwarm("demo", "ns").ExitOnComplete().UploadRate("1Mi").DownloadRate("2Mi").PieceSize("1Mi").Obj(),
		"http source":         swarmtest.MakeSwarm("demo", "ns").HTTP("http://files.local/a.bin", strings.Repeat("ab", 32)).Obj(),
		"claim source":        swarmtest.MakeSwarm("demo", "ns").PVC("data", "models/a.bin").Obj(),
		"rarity choker, fast": swarmtest.MakeSwarm("demo", "ns").ChokeStrategy(minibitv1alpha1.ChokingRarity).Obj(),
		"pinned content": swarmtest.MakeSwarm("demo", "ns").HTTP("http://files.local/a.bin", strings.Repeat("ab", 32)).
			Status(minibitv1alpha1.SwarmStatus{InfoHash: strings.Repeat("0f", 20)}).Obj(),
		"http urls with Secrets, globs and Auto pieces": swarmtest.MakeSwarm("demo", "ns").
			HTTPURLs("https://files.local/a.json", "https://files.local/b.bin").HTTPSecrets("token", "ca").
			IncludeExclude([]string{"*.bin"}, []string{"tmp/**"}).PieceSize("Auto").Obj(),
		"oci with a pull Secret": swarmtest.MakeSwarm("demo", "ns").OCI("registry.local:5000/m:v1", "pull").SourceMaxBytes("200Gi").Obj(),
		"s3 with credentials":    swarmtest.MakeSwarm("demo", "ns").S3("minio.local:9000", "models", "llama/", "creds").Obj(),
		"a claim's directory":    swarmtest.MakeSwarm("demo", "ns").PVC("data", "models/llama").IncludeExclude([]string{"*.bin"}, nil).Obj(),
		"a v1 twin":              swarmtest.MakeSwarm("demo", "ns").V1Twin().Obj(),
	}
	switches := swarmtest.MakeSwarm("demo", "ns").S3("minio.local:9000", "models", "", "").Obj()
	switches.Spec.Source.S3.PlainHTTP, switches.Spec.Source.S3.CASecret = true, "ca"
	swarms["s3 over plain http with a CA"] = switches
	switches = swarmtest.MakeSwarm("demo", "ns").OCI("registry.local:5000/m:v1", "").Obj()
	switches.Spec.Source.OCI.PlainHTTP = true
	swarms["oci over plain http"] = switches
	switches = swarmtest.MakeSwarm("demo", "ns").HTTP("http://files.local/a.bin", "").Obj()
	switches.Spec.Source.HTTP.MaxRedirects = new(int32(3))
	swarms["http with 3 redirects"] = switches
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
