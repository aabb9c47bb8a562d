package controllers

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/swarmtest"
)

// Each source reaches the seeder as the peer binary's flags (contract section 4), and a
// directory source seeds the directory named after the Swarm.
func TestSeederArgsOfEachSource(t *testing.T) {
	tests := []struct {
		name  string
		swarm *swarmtest.SwarmWrapper
		want  []string
		never []string
	}{{
		name:  "one url stays as before",
		swarm: swarmtest.MakeSwarm("demo", "ns").HTTP("https://h/d/model.bin", ""),
		want:  []string{"--file=/data/model.bin", "--url=https://h/d/model.bin", "--max-bytes=32GiB", "--piece-size=256KiB"},
		never: []string{"--http-header-file", "--ca-file", "--http-max-redirects", "--include", "--v1-twin", "--oci", "--s3"},
	}, {
		name: "urls with a header and a CA Secret",
		swarm: swarmtest.MakeSwarm("demo", "ns").HTTPURLs("https://h/a/config.json", "https://h/b/weights.bin?sig=1").
			HTTPSecrets("token", "private-ca").IncludeExclude([]string{"*.json"}, []string{"tmp/**"}),
		want: []string{"--file=/data/demo", "--url=https://h/a/config.json", "--url=https://h/b/weights.bin?sig=1",
			"--http-header-file=/etc/minibit/http/headers", "--ca-file=/etc/minibit/ca/ca.crt", "--include=*.json", "--exclude=tmp/**"},
		never: []string{"--url-sha256"},
	}, {
		name:  "oci with a pull Secret over plain http",
		swarm: swarmtest.MakeSwarm("demo", "ns").OCI("registry.local:5000/models/m:v1", "pull").SourceMaxBytes("200Gi"),
		want: []string{"--file=/data/demo", "--oci-ref=registry.local:5000/models/m:v1", "--oci-auth-file=/etc/minibit/oci/config.json",
			"--max-bytes=200GiB"},
		never: []string{"--url", "--s3"},
	}, {
		name:  "s3 with credentials",
		swarm: swarmtest.MakeSwarm("demo", "ns").S3("minio.storage.svc:9000", "models", "llama/", "creds"),
		want: []string{"--file=/data/demo", "--s3-endpoint=minio.storage.svc:9000", "--s3-bucket=models", "--s3-prefix=llama/",
			"--s3-region=us-east-1", "--s3-credentials-dir=/etc/minibit/s3", "--max-bytes=1TiB"},
		never: []string{"--url", "--oci", "--s3-plain-http", "--ca-file"},
	}, {
		name:  "a claim's directory, Auto pieces and a v1 twin",
		swarm: swarmtest.MakeSwarm("demo", "ns").PVC("data", "models/llama").IncludeExclude(nil, []string{"*.tmp"}).PieceSize("Auto").V1Twin(),
		want:  []string{"--file=/source/models/llama", "--exclude=*.tmp", "--piece-size=auto", "--v1-twin"},
		never: []string{"--url", "--max-bytes", "--include"},
	}, {
		name:  "the whole claim (path .)",
		swarm: swarmtest.MakeSwarm("demo", "ns").PVC("data", "."),
		want:  []string{"--file=/source"},
	}, {
		name:  "a claim's directory written with a slash",
		swarm: swarmtest.MakeSwarm("demo", "ns").PVC("data", "./models/"),
		want:  []string{"--file=/source/models"},
	}}
	for _, role := range []Role{RolePeer, RoleSeeder} {
		args := buildPod(swarmtest.MakeSwarm("demo", "ns").V1Twin().Obj(), PodDefaults{}, role, 0, 0).Spec.Containers[0].Args
		if !slices.Contains(args, "--v1-twin") {
			t.Errorf("the %s of a v1 twin swarm lacks --v1-twin: %q", role, args)
		}
		args = buildPod(swarmtest.MakeSwarm("demo", "ns").Obj(), PodDefaults{}, role, 0, 0).Spec.Containers[0].Args
		if slices.Contains(args, "--v1-twin") {
			t.Errorf("the %s of a swarm without a twin has --v1-twin: %q", role, args)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkArgs(t, buildSeederPod(tt.swarm.Obj(), PodDefaults{}, 0, 0).Spec.Containers[0].Args, tt.want, tt.never)
		})
	}
}

// The flags only plain settings turn on: the redirects, plain http.
func TestSeederArgsOfSourceSwitches(t *testing.T) {
	s := swarmtest.MakeSwarm("demo", "ns").HTTP("http://h/f", "").Obj()
	s.Spec.Source.HTTP.MaxRedirects = new(int32(2))
	if args := buildSeederPod(s, PodDefaults{}, 0, 0).Spec.Containers[0].Args; !slices.Contains(args, "--http-max-redirects=2") {
		t.Errorf("args lack --http-max-redirects=2: %q", args)
	}
	s = swarmtest.MakeSwarm("demo", "ns").OCI("reg/m:v1", "").Obj()
	s.Spec.Source.OCI.PlainHTTP = true
	if args := buildSeederPod(s, PodDefaults{}, 0, 0).Spec.Containers[0].Args; !slices.Contains(args, "--oci-plain-http") ||
		slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--oci-auth-file") }) {
		t.Errorf("args of an anonymous plain-http pull: %q", args)
	}
	s = swarmtest.MakeSwarm("demo", "ns").OCI("reg/m:v1", "").Obj()
	s.Spec.Source.OCI.CASecret = "ca"
	seeder := buildSeederPod(s, PodDefaults{}, 0, 0)
	if args := seeder.Spec.Containers[0].Args; !slices.Contains(args, "--ca-file=/etc/minibit/ca/ca.crt") {
		t.Errorf("args of a registry with a private CA lack --ca-file: %q", args)
	}
	if got := secretFiles(seeder); !slices.Contains(got, "/etc/minibit/ca/ca.crt") {
		t.Errorf("the oci seeder's Secret files are %q, want the CA bundle among them", got)
	}
	s = swarmtest.MakeSwarm("demo", "ns").S3("s3:9000", "b", "", "").Obj()
	s.Spec.Source.S3.PlainHTTP, s.Spec.Source.S3.Region, s.Spec.Source.S3.CASecret = true, "eu-west-1", "ca"
	args := buildSeederPod(s, PodDefaults{}, 0, 0).Spec.Containers[0].Args
	for _, w := range []string{"--s3-plain-http", "--s3-region=eu-west-1", "--ca-file=/etc/minibit/ca/ca.crt"} {
		if !slices.Contains(args, w) {
			t.Errorf("args lack %q: %q", w, args)
		}
	}
}

// A source's Secrets are mounted read-only into the seeders, each key at its file; the peers'
// pods (and the tracker's) carry no Secret of the source, whatever the source.
func TestSourceSecretsOnlyInSeeders(t *testing.T) {
	swarms := map[string]*minibitv1alpha1.Swarm{
		"http": swarmtest.MakeSwarm("demo", "ns").HTTPURLs("https://h/a", "https://h/b").HTTPSecrets("token", "ca").Obj(),
		"oci":  swarmtest.MakeSwarm("demo", "ns").OCI("reg/m:v1", "pull").Obj(),
		"s3":   swarmtest.MakeSwarm("demo", "ns").S3("s3:9000", "b", "p/", "creds").Obj(),
	}
	wantFiles := map[string][]string{
		"http": {"/etc/minibit/http/headers", "/etc/minibit/ca/ca.crt"},
		"oci":  {"/etc/minibit/oci/config.json"},
		"s3":   {"/etc/minibit/s3/AWS_ACCESS_KEY_ID", "/etc/minibit/s3/AWS_SECRET_ACCESS_KEY"},
	}
	for name, s := range swarms {
		seeder := buildSeederPod(s, PodDefaults{}, 0, 0)
		if got := secretFiles(seeder); !sameSet(got, append(wantFiles[name], publishTokenPath)) {
			t.Errorf("%s: the seeder's Secret files are %q, want %q and the publish token", name, got, wantFiles[name])
		}
		for _, m := range seeder.Spec.Containers[0].VolumeMounts {
			if strings.HasPrefix(m.Name, sourceSecretVol) && !m.ReadOnly {
				t.Errorf("%s: %s is mounted writable", name, m.Name)
			}
		}
		peer := buildPeerPod(s, PodDefaults{}, 0, 0)
		for _, v := range peer.Spec.Volumes {
			if v.Secret != nil || v.Projected != nil {
				t.Errorf("%s: the peer's pod carries the Secret volume %s", name, v.Name)
			}
		}
		if got := secretFiles(buildTrackerPod(s, PodDefaults{}, 0)); !slices.Equal(got, []string{publishTokenPath}) {
			t.Errorf("%s: the tracker's Secret files are %q, want the publish token only", name, got)
		}
	}
}

// secretFiles lists the files a pod's main container sees from Secret volumes.
func secretFiles(pod *corev1.Pod) []string {
	var files []string
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		for _, v := range pod.Spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			for _, item := range v.Secret.Items {
				files = append(files, m.MountPath+"/"+item.Path)
			}
		}
	}
	return files
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// The tracker's .torrent limit follows the payload's bound: never below the old 8 MiB, larger
// for a large payload, never above what peers fetch, and Auto pieces keep a large directory's
// torrent small.
func TestTrackerTorrentLimitFollowsThePayload(t *testing.T) {
	limit := func(s *minibitv1alpha1.Swarm) int64 {
		for _, a := range buildTrackerPod(s, PodDefaults{}, 0).Spec.Containers[0].Args {
			if v, ok := strings.CutPrefix(a, "--max-torrent-bytes="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("--max-torrent-bytes=%s: %v", v, err)
				}
				return n
			}
		}
		t.Fatalf("the tracker has no --max-torrent-bytes")
		return 0
	}
	small := limit(swarmtest.MakeSwarm("demo", "ns").Obj())
	if small != 8<<20 {
		t.Errorf("a 1 MiB swarm's limit is %d, want the old 8 MiB", small)
	}
	big := limit(swarmtest.MakeSwarm("demo", "ns").Generate("200Gi", 1).Obj())
	if big <= 8<<20 || big >= peersTorrentLimit {
		t.Errorf("a 200 GiB swarm in 256 KiB pieces has the limit %d, want between 8 MiB and the peers' limit", big)
	}
	urls := func(pieceSize string) *minibitv1alpha1.Swarm {
		s := swarmtest.MakeSwarm("demo", "ns").HTTPURLs("https://h/a", "https://h/b").PieceSize(pieceSize).Obj()
		s.Spec.Source.HTTP.MaxBytes = ptrQuantity("200Gi")
		return s
	}
	auto, fixed := limit(urls("Auto")), limit(urls("256Ki"))
	if auto >= fixed {
		t.Errorf("a 200 GiB directory's limit with Auto pieces (%d) is not below the one of 256 KiB pieces (%d)", auto, fixed)
	}
	if dir := limit(swarmtest.MakeSwarm("demo", "ns").OCI("reg/m:v1", "").Obj()); dir != peersTorrentLimit {
		t.Errorf("a directory of unknown file count has the limit %d, want the peers' %d", dir, peersTorrentLimit)
	}
}

func TestPieceSizeOf(t *testing.T) {
	tests := []struct {
		in   *intstr.IntOrString
		size int64
		auto bool
	}{
		{nil, DefaultPieceSize, false},
		{new(intstr.FromString("1Mi")), 1 << 20, false},
		{new(intstr.FromInt32(65536)), 65536, false},
		{new(intstr.FromString("Auto")), 0, true},
		{new(intstr.FromString("junk")), DefaultPieceSize, false},
	}
	for _, tt := range tests {
		size, auto := pieceSizeOf(tt.in)
		if size != tt.size || auto != tt.auto {
			t.Errorf("pieceSizeOf(%v) = %d %v, want %d %v", tt.in, size, auto, tt.size, tt.auto)
		}
	}
}

// The manager refuses what the API server cannot check cheaply: http.urls naming one file
// twice, or a name that is no file name.
func TestSourceRefusal(t *testing.T) {
	tests := map[string]struct {
		urls []string
		want string
	}{
		"distinct names":   {[]string{"https://a/x/model.bin", "https://b/x/config.json?v=2"}, ""},
		"one name twice":   {[]string{"https://a/x/model.bin", "https://b/y/model.bin?sig=2"}, `would both be the file "model.bin"`},
		"a directory URL":  {[]string{"https://a/x/"}, "does not end in a valid file name"},
		"no path":          {[]string{"https://a"}, "does not end in a valid file name"},
		"a dot-dot path":   {[]string{"https://a/x/.."}, "does not end in a valid file name"},
		"an encoded slash": {[]string{"https://a/x/..%2F..%2Fetc"}, ""},
		"a hidden name":    {[]string{"https://a/.env"}, "does not end in a valid file name"},
	}
	for name, tt := range tests {
		got := sourceRefusal(swarmtest.MakeSwarm("demo", "ns").HTTPURLs(tt.urls...).Obj())
		if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("%s: refusal %q, want %q", name, got, tt.want)
		}
	}
}
