package controllers

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/swarmtest"
)

var _ = Describe("Swarm sources and payload", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	DescribeTable("the API server accepts each source",
		func(swarm *swarmtest.SwarmWrapper) {
			s := swarm.Obj()
			s.Namespace = ns // the entries are built before the namespace exists
			Expect(k8sClient.Create(ctx, s, client.DryRunAll)).To(Succeed())
		},
		Entry("generated content", swarmtest.MakeSwarm("src", "")),
		Entry("one url", swarmtest.MakeSwarm("src", "").HTTP("https://h/model.bin", strings.Repeat("a", 64))),
		Entry("urls with Secrets and globs", swarmtest.MakeSwarm("src", "").HTTPURLs("https://h/a.json", "https://h/b.bin").
			HTTPSecrets("token", "ca").IncludeExclude([]string{"*.bin"}, nil)),
		Entry("an oci artifact", swarmtest.MakeSwarm("src", "").OCI("registry.local:5000/models/m@sha256:"+strings.Repeat("0", 64), "pull").
			SourceMaxBytes("200Gi").PieceSize("Auto")),
		Entry("an s3 prefix", swarmtest.MakeSwarm("src", "").S3("minio.storage.svc:9000", "models", "llama/", "creds").
			IncludeExclude([]string{"**/*.safetensors"}, []string{"tmp/**"})),
		Entry("a claim's directory with a v1 twin", swarmtest.MakeSwarm("src", "").PVC("data", "models/llama").V1Twin()),
		Entry("pieceSize Auto", swarmtest.MakeSwarm("src", "").PieceSize("Auto")),
	)

	It("reads an integer pieceSize and fills the new fields' defaults", func() {
		swarm := swarmtest.MakeSwarm("defaults", ns).S3("s3.local", "bkt", "", "").Obj()
		v := intstr.FromInt32(262144)
		swarm.Spec.PieceSize = &v
		Expect(k8sClient.Create(ctx, swarm, client.DryRunAll)).To(Succeed())
		Expect(swarm.Spec.PieceSize.IntValue()).To(Equal(262144))
		Expect(swarm.Spec.Source.S3.Region).To(Equal("us-east-1"))
		Expect(swarm.Spec.V1Twin).To(BeFalse())

		swarm = swarmtest.MakeSwarm("defaults", ns).HTTPURLs("https://h/a").Obj()
		Expect(k8sClient.Create(ctx, swarm, client.DryRunAll)).To(Succeed())
		Expect(*swarm.Spec.Source.HTTP.MaxRedirects).To(Equal(int32(10)))
		Expect(swarm.Spec.Source.HTTP.MaxBytes.String()).To(Equal("32Gi"))
		Expect(swarm.Spec.PieceSize.String()).To(Equal("256Ki"))
	})

	DescribeTable("the API server refuses a source that cannot work",
		func(mutate func(*minibitv1alpha1.Swarm), message string) {
			swarm := swarmtest.MakeSwarm("bad", ns).Obj()
			mutate(swarm)
			err := k8sClient.Create(ctx, swarm, client.DryRunAll)
			Expect(err).To(HaveOccurred())
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), err.Error())
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("oci and s3 at once", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{OCI: &minibitv1alpha1.OCISource{Ref: "r/m:v1"},
				S3: &minibitv1alpha1.S3Source{Endpoint: "s3.local", Bucket: "bkt"}}
		}, "source must set exactly one of generate, http, oci, s3 or persistentVolumeClaim"),
		Entry("http with both url and urls", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{URL: "https://h/a", URLs: []string{"https://h/b"}}}
		}, "http must set exactly one of url (one file) or urls (a directory)"),
		Entry("http with neither url nor urls", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{}}
		}, "http must set exactly one of url (one file) or urls (a directory)"),
		Entry("urls that are not http", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{URLs: []string{"https://h/a", "file:///etc/passwd"}}}
		}, "every http.urls entry must start with http:// or https://"),
		Entry("more than 1000 urls", func(s *minibitv1alpha1.Swarm) {
			urls := make([]string, 1001)
			for i := range urls {
				urls[i] = fmt.Sprintf("https://h/f%d", i)
			}
			s.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{URLs: urls}}
		}, "spec.source.http.urls: Too many"),
		Entry("a url twice", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{URLs: []string{"https://h/a", "https://h/a"}}}
		}, "Duplicate value"),
		Entry("a sha256 with urls", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{URLs: []string{"https://h/a"}, SHA256: strings.Repeat("a", 64)}}
		}, "http.sha256 applies only to a single url"),
		Entry("globs on generated content", func(s *minibitv1alpha1.Swarm) { s.Spec.Source.Include = []string{"*.bin"} },
			"source.include and source.exclude apply only to a directory"),
		Entry("globs on a single url", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{URL: "https://h/a"}, Exclude: []string{"*.tmp"}}
		}, "source.include and source.exclude apply only to a directory"),
		Entry("an absolute glob", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{OCI: &minibitv1alpha1.OCISource{Ref: "r/m:v1"}, Include: []string{"/etc/*"}}
		}, "source.include globs are relative paths"),
		Entry("source.maxBytes on an http source", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{URL: "https://h/a"}, MaxBytes: ptrQuantity("1Gi")}
		}, "source.maxBytes applies to oci, s3 and persistentVolumeClaim"),
		Entry("a source bound of 0", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{OCI: &minibitv1alpha1.OCISource{Ref: "r/m:v1"}, MaxBytes: ptrQuantity("0")}
		}, "source.maxBytes must be a positive whole number of bytes"),
		Entry("an oci ref with a scheme", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{OCI: &minibitv1alpha1.OCISource{Ref: "https://r/m:v1"}}
		}, "oci.ref is registry/repository:tag"),
		Entry("an s3 endpoint with a scheme", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{S3: &minibitv1alpha1.S3Source{Endpoint: "https://s3.local", Bucket: "bkt"}}
		}, "spec.source.s3.endpoint"),
		Entry("an s3 bucket name S3 refuses", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{S3: &minibitv1alpha1.S3Source{Endpoint: "s3.local", Bucket: "Bad_Bucket"}}
		}, "spec.source.s3.bucket"),
		Entry("a Secret name that is no object name", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{OCI: &minibitv1alpha1.OCISource{Ref: "r/m:v1", PullSecret: "../x"}}
		}, "spec.source.oci.pullSecret"),
		Entry("pieceSize auto in lower case", func(s *minibitv1alpha1.Swarm) { s.Spec.PieceSize = ptrPieceSize("auto") },
			"pieceSize must be a power of two from 16Ki to 16Mi, such as 256Ki, or Auto"),
		Entry("too many redirects", func(s *minibitv1alpha1.Swarm) {
			s.Spec.Source = minibitv1alpha1.Source{HTTP: &minibitv1alpha1.HTTPSource{URL: "https://h/a", MaxRedirects: new(int32(31))}}
		}, "spec.source.http.maxRedirects"),
	)

	It("refuses to change v1Twin or pieceSize Auto while the swarm runs", func() {
		swarm := swarmtest.MakeSwarm("twin", ns).PieceSize("Auto").Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		swarm.Spec.V1Twin = true
		err := k8sClient.Update(ctx, swarm)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("v1Twin cannot change while the swarm runs"))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(swarm), swarm)).To(Succeed())
		swarm.Spec.PieceSize = ptrPieceSize("1Mi")
		err = k8sClient.Update(ctx, swarm)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("pieceSize cannot change while the swarm runs"))
	})

	It("starts no pod while a Secret the source names is missing, then mounts it into the seeders only", func() {
		swarm := swarmtest.MakeSwarm("private", ns).OCI("registry.local/models/m:v1", "pull").Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		key := client.ObjectKeyFromObject(swarm)
		Eventually(getSwarm(ctx, key), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhasePending),
			haveCondition(minibitv1alpha1.ConditionSourceReady, metav1.ConditionFalse, ReasonSecretMissing)))
		Consistently(podNames(ctx, ns), "1s", interval).Should(BeEmpty())
		Eventually(eventReasons(ctx, ns), timeout, interval).Should(ContainElement(ReasonSecretMissing))

		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "pull", Namespace: ns}, Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"other": []byte("x")}}
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		Eventually(getSwarm(ctx, key), timeout, interval).Should(
			haveCondition(minibitv1alpha1.ConditionSourceReady, metav1.ConditionFalse, ReasonSecretInvalid))
		Expect(podNames(ctx, ns)()).To(BeEmpty())

		Expect(k8sClient.Delete(ctx, secret)).To(Succeed())
		secret = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "pull", Namespace: ns}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}}
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		Eventually(getSwarm(ctx, key), timeout, interval).Should(
			haveCondition(minibitv1alpha1.ConditionSourceReady, metav1.ConditionTrue, ReasonSecretsFound))
		Eventually(getPod(ctx, ns, "private-seeder-0"), timeout, interval).Should(HaveField("Spec.Volumes",
			ContainElement(HaveField("VolumeSource.Secret.SecretName", "pull"))))
		for _, name := range []string{"private-peer-0", "private-tracker"} {
			pod, err := getPod(ctx, ns, name)()
			Expect(err).NotTo(HaveOccurred())
			for _, v := range pod.Spec.Volumes {
				Expect(v.Secret == nil || v.Secret.SecretName != "pull").To(BeTrue(), "%s mounts the pull Secret", name)
			}
		}

		By("a seeder gone while its Secret is gone is not replaced; a peer gone is")
		Expect(k8sClient.Delete(ctx, secret)).To(Succeed())
		for _, name := range []string{"private-seeder-0", "private-peer-0"} {
			pod, err := getPod(ctx, ns, name)()
			Expect(err).NotTo(HaveOccurred())
			Expect(k8sClient.Delete(ctx, pod)).To(Succeed())
		}
		Eventually(getSwarm(ctx, key), timeout, interval).Should(
			haveCondition(minibitv1alpha1.ConditionSourceReady, metav1.ConditionFalse, ReasonSecretMissing))
		Eventually(podNames(ctx, ns), timeout, interval).Should(ContainElements("private-tracker", "private-peer-0"))
		Consistently(podNames(ctx, ns), "1s", interval).ShouldNot(ContainElement("private-seeder-0"))
		secret.ResourceVersion = ""
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		Eventually(podNames(ctx, ns), timeout, interval).Should(ContainElement("private-seeder-0"))
	})

	It("fails a swarm whose http.urls name one file twice, before any pod starts", func() {
		swarm := swarmtest.MakeSwarm("twice", ns).HTTPURLs("https://a/x/model.bin", "https://b/y/model.bin").Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(And(
			HaveField("Status.Phase", minibitv1alpha1.PhaseFailed),
			haveCondition(minibitv1alpha1.ConditionFailed, metav1.ConditionTrue, ReasonSourceRefused)))
		Expect(podNames(ctx, ns)()).To(BeEmpty())
	})

	It("shows the payload the tracker read from the published torrent in status.payload", func() {
		swarm := swarmtest.MakeSwarm("payload", ns).Peers(1).Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		mi := publishFile(ctx, "payload")
		v2 := mi.InfoHashV2()
		Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(HaveField("Status.Payload",
			&minibitv1alpha1.PayloadStatus{Files: 1, TotalBytes: 64 << 10, ContentID: "sha256:" + hex.EncodeToString(v2[:]),
				InfoHash: fmt.Sprintf("%x", mi.InfoHashV1()), PieceSize: 16 << 10}))
	})

	It("shows a directory's file count and total size, pads not counted", func() {
		swarm := swarmtest.MakeSwarm("tree", ns).Peers(1).OCI("registry.local/models/m:v1", "").Obj()
		Expect(k8sClient.Create(ctx, swarm)).To(Succeed())
		dir := filepath.Join(GinkgoT().TempDir(), "tree")
		sizes := map[string]int{"config.json": 300, "weights/part-1.bin": 40 << 10, "weights/part-2.bin": 17, "empty": 0}
		var total int64
		for name, size := range sizes {
			path := filepath.Join(dir, filepath.FromSlash(name))
			Expect(os.MkdirAll(filepath.Dir(path), 0o755)).To(Succeed())
			Expect(os.WriteFile(path, make([]byte, size), 0o600)).To(Succeed())
			total += int64(size)
		}
		mi, err := metainfo.CreateDir(dir, metainfo.CreateOptions{PieceLength: 16 << 10})
		Expect(err).NotTo(HaveOccurred())
		Expect(mi.Info.Length).To(BeNumerically(">", total)) // the v1 piece space holds pads
		data, err := mi.Encode()
		Expect(err).NotTo(HaveOccurred())
		Expect(env.tracker.Client.PublishTorrent(ctx, "tree", data)).To(Succeed())
		Eventually(getSwarm(ctx, client.ObjectKeyFromObject(swarm)), timeout, interval).Should(And(
			HaveField("Status.InfoHash", fmt.Sprintf("%x", mi.InfoHashV1())),
			HaveField("Status.Payload.Files", int32(len(sizes))),
			HaveField("Status.Payload.TotalBytes", total),
			HaveField("Status.Payload.ContentID", mi.ContentID()),
		))
	})
})

// podNames lists the pods of a namespace by name, for Eventually and Consistently.
func podNames(ctx context.Context, ns string) func() ([]string, error) {
	return func() ([]string, error) {
		var pods corev1.PodList
		if err := k8sClient.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		names := make([]string, 0, len(pods.Items))
		for _, p := range pods.Items {
			names = append(names, p.Name)
		}
		return names, nil
	}
}
