package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/minibit-io/minibit/internal/backoff"
)

// TitleAnnotation names the file of an artifact's layer (ORAS).
const TitleAnnotation = "org.opencontainers.image.title"

// ociFile is one layer to fetch: its relative path and its descriptor.
type ociFile struct {
	path string
	desc v1.Descriptor
}

// fetchOCI pulls the artifact or image of spec.OCI.Ref into the directory dest: the manifest
// first (names and sizes checked before any blob is fetched), then each layer's blob, its size
// and digest checked as it streams, through "<dest>.partial".
func fetchOCI(ctx context.Context, log *slog.Logger, spec Spec, dest string) (Result, error) {
	o := spec.OCI
	var nameOpts []name.Option
	if o.PlainHTTP {
		nameOpts = append(nameOpts, name.Insecure)
	}
	ref, err := name.ParseReference(o.Ref, nameOpts...)
	if err != nil {
		return Result{}, fmt.Errorf("source: oci: %w", err)
	}
	auth, err := registryAuth(o.AuthFile, ref.Context().RegistryStr())
	if err != nil {
		return Result{}, err
	}
	tr, err := newTransport(spec)
	if err != nil {
		return Result{}, err
	}
	files, err := ociManifest(ctx, spec, ref, auth, tr)
	if err != nil {
		return Result{}, err
	}
	log.Info("OCI manifest read", "ref", ref.String(), "files", len(files))
	g, err := blobGetter(ctx, log, spec, ref, auth, tr)
	if err != nil {
		return Result{}, err
	}
	return g.fetchBlobs(ctx, ref, files, dest)
}

// ociManifest reads ref's manifest (an index resolves to its linux/amd64 image) and returns
// its layers as files, names checked and the total within spec.MaxBytes.
func ociManifest(ctx context.Context, spec Spec, ref name.Reference, auth authn.Authenticator, tr http.RoundTripper) ([]ociFile, error) {
	var m *v1.Manifest
	err := backoff.Retry(ctx, spec.Retry, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, spec.Timeout+spec.StallTimeout)
		defer cancel()
		var err error
		m, err = readManifest(ctx, ref, auth, tr)
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode >= 400 && terr.StatusCode < 500 {
			return backoff.Permanent(err)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("source: oci: %s: %w", ref, err)
	}
	return manifestFiles(m, spec.MaxBytes)
}

// readManifest fetches and parses ref's image manifest.
func readManifest(ctx context.Context, ref name.Reference, auth authn.Authenticator, tr http.RoundTripper) (*v1.Manifest, error) {
	desc, err := remote.Get(ref, remote.WithContext(ctx), remote.WithAuth(auth), remote.WithTransport(tr),
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	if err != nil {
		return nil, err
	}
	if desc.MediaType.IsIndex() {
		img, err := desc.Image()
		if err != nil {
			return nil, err
		}
		return img.Manifest()
	}
	return v1.ParseManifest(bytes.NewReader(desc.Manifest))
}

// manifestFiles names each layer: its title annotation (checked as a relative path), or
// "sha256-<hex>" of its digest when it has none (a layer listed twice is fetched once).
func manifestFiles(m *v1.Manifest, maxBytes int64) ([]ociFile, error) {
	var files []ociFile
	var paths []string
	var total int64
	seen := map[string]bool{}
	for _, l := range m.Layers {
		if l.Digest.Algorithm != "sha256" || len(l.Digest.Hex) != 64 || l.Size < 0 {
			return nil, fmt.Errorf("source: oci: layer %s: only sha256 digests and sizes ≥ 0 are accepted", l.Digest)
		}
		p, titled := l.Annotations[TitleAnnotation]
		if !titled {
			p = "sha256-" + l.Digest.Hex
			if seen[p] {
				continue
			}
		}
		seen[p] = true
		total += l.Size
		if total > maxBytes || total < 0 {
			return nil, fmt.Errorf("source: oci: %w (%d bytes)", ErrTooLarge, maxBytes)
		}
		files = append(files, ociFile{path: p, desc: l})
		paths = append(paths, p)
	}
	if len(files) == 0 {
		return nil, errors.New("source: oci: the manifest has no layer")
	}
	if err := checkTree(paths); err != nil {
		return nil, fmt.Errorf("source: oci: layer titles: %w", err)
	}
	return files, nil
}

// blobGetter is an httpGetter whose requests carry the registry's pull token.
func blobGetter(ctx context.Context, log *slog.Logger, spec Spec, ref name.Reference, auth authn.Authenticator, tr http.RoundTripper) (*httpGetter, error) {
	var rt http.RoundTripper
	err := backoff.Retry(ctx, spec.Retry, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, spec.Timeout+spec.StallTimeout)
		defer cancel()
		var err error
		rt, err = transport.NewWithContext(ctx, ref.Context().Registry, auth, tr, []string{ref.Scope(transport.PullScope)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("source: oci: %s: %w", ref.Context().RegistryStr(), err)
	}
	g := &httpGetter{log: log, spec: spec, header: http.Header{}}
	g.client = &http.Client{Transport: rt, CheckRedirect: g.checkRedirect(DefaultMaxRedirects)}
	return g, nil
}

// fetchBlobs downloads every file's blob into the directory dest.
func (g *httpGetter) fetchBlobs(ctx context.Context, ref name.Reference, files []ociFile, dest string) (Result, error) {
	return fillDir(dest, len(files), func(pd *partialDir, i int) (int64, error) {
		return files[i].desc.Size, g.fetchBlob(ctx, pd, ref, files[i])
	})
}

// fetchBlob downloads one blob (resumable like any HTTP download) to its path and checks its
// size and digest.
func (g *httpGetter) fetchBlob(ctx context.Context, pd *partialDir, ref name.Reference, f ociFile) error {
	u := url.URL{
		Scheme: ref.Context().Scheme(), Host: ref.Context().RegistryStr(),
		Path: "/v2/" + ref.Context().RepositoryStr() + "/blobs/" + f.desc.Digest.String(),
	}
	file, err := pd.create(f.path)
	if err != nil {
		return fmt.Errorf("source: oci: %w", err)
	}
	d := &download{url: u.String(), f: file, h: sha256.New(), limit: f.desc.Size, size: f.desc.Size, immutable: true}
	err = g.download(ctx, d)
	if err == nil && d.n != f.desc.Size {
		err = fmt.Errorf("source: oci: blob %s has %d bytes, the manifest says %d", f.desc.Digest, d.n, f.desc.Size)
	}
	if err == nil {
		if got := hex.EncodeToString(d.h.Sum(nil)); got != f.desc.Digest.Hex {
			err = fmt.Errorf("source: oci: blob %s (%s): the bytes received have digest sha256:%s", f.desc.Digest, f.path, got)
		}
	}
	if errors.Is(err, ErrTooLarge) {
		err = fmt.Errorf("source: oci: blob %s is larger than the %d bytes its manifest says: %w", f.desc.Digest, f.desc.Size, err)
	}
	if err == nil {
		err = file.Sync()
	}
	return errors.Join(err, file.Close())
}
