# The MiniBit image for users with Docker: /manager, /tracker and /peer, static (CGO off), on
# distroless static, non-root (65532). `make docker-build` runs it. Without Docker,
# `make image-tar` builds the same layout as a tarball (hack/image).
FROM golang:1.26.8 AS build
ARG TARGETOS=linux
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w" -o /out/ ./cmd/manager ./cmd/tracker ./cmd/peer

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/manager /out/tracker /out/peer /
USER 65532:65532
ENTRYPOINT ["/manager"]
