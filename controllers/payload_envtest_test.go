package controllers

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/swarmtest"
)

var _ = Describe("Swarm payload", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
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
