package controllers

import (
	"context"
	"encoding/hex"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
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
})
