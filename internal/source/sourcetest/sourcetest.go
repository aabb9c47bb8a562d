// Package sourcetest plays the origins of internal/source for its tests and for test/origin:
// an HTTP handler that cuts responses mid-body, an OCI artifact pushed from files into a real
// registry, and a directory put into an S3 bucket.
package sourcetest

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Dropper serves Handler but cuts each of its first Times responses (0: every response) after
// Every bytes of body: the client sees the connection close mid-file.
type Dropper struct {
	Handler http.Handler
	Every   int64
	Times   int64
	served  atomic.Int64
}

// ServeHTTP serves r, cutting the response when it is one of those to cut.
func (d *Dropper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if n := d.served.Add(1); d.Every > 0 && (d.Times == 0 || n <= d.Times) {
		w = &dropWriter{ResponseWriter: w, left: d.Every}
	}
	d.Handler.ServeHTTP(w, r)
}

// dropWriter passes at most left bytes, then flushes and aborts the response.
type dropWriter struct {
	http.ResponseWriter
	left int64
}

func (w *dropWriter) Write(p []byte) (int, error) {
	if int64(len(p)) <= w.left {
		w.left -= int64(len(p))
		return w.ResponseWriter.Write(p)
	}
	_, _ = w.ResponseWriter.Write(p[:w.left])
	_ = http.NewResponseController(w.ResponseWriter).Flush()
	panic(http.ErrAbortHandler) // net/http closes the connection mid-body
}

// Blob is one file of an artifact: its title (a relative path; not checked, so tests may push
// hostile ones) and its bytes.
type Blob struct {
	Title string
	Open  func() (io.ReadCloser, error)
}

// BytesBlob is a Blob of b.
func BytesBlob(title string, b []byte) Blob {
	return Blob{Title: title, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

// DirBlobs is a Blob for each regular file under dir, titled with its slash path.
func DirBlobs(dir string) ([]Blob, error) {
	var blobs []Blob
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		blobs = append(blobs, Blob{Title: filepath.ToSlash(rel), Open: func() (io.ReadCloser, error) { return os.Open(p) }})
		return nil
	})
	return blobs, err
}

// PushArtifact pushes blobs to ref as an ORAS-style artifact: one layer per blob, with its
// title in the annotation org.opencontainers.image.title ("" pushes no title). It returns the
// manifest's digest.
func PushArtifact(ctx context.Context, ref name.Reference, blobs []Blob, opts ...remote.Option) (v1.Hash, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	adds := make([]mutate.Addendum, 0, len(blobs))
	for _, b := range blobs {
		l, err := newBlobLayer(b.Open)
		if err != nil {
			return v1.Hash{}, err
		}
		add := mutate.Addendum{Layer: l}
		if b.Title != "" {
			add.Annotations = map[string]string{"org.opencontainers.image.title": b.Title}
		}
		adds = append(adds, add)
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Write(ref, img, append(opts, remote.WithContext(ctx))...); err != nil {
		return v1.Hash{}, err
	}
	return img.Digest()
}

// blobLayer is a layer whose bytes are a file's, as they are (ORAS pushes files so).
type blobLayer struct {
	open   func() (io.ReadCloser, error)
	digest v1.Hash
	size   int64
}

// newBlobLayer reads open's bytes once for their digest and size.
func newBlobLayer(open func() (io.ReadCloser, error)) (*blobLayer, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	h, n, err := v1.SHA256(rc)
	if err != nil {
		return nil, err
	}
	return &blobLayer{open: open, digest: h, size: n}, nil
}

func (l *blobLayer) Digest() (v1.Hash, error)             { return l.digest, nil }
func (l *blobLayer) DiffID() (v1.Hash, error)             { return l.digest, nil }
func (l *blobLayer) Compressed() (io.ReadCloser, error)   { return l.open() }
func (l *blobLayer) Uncompressed() (io.ReadCloser, error) { return l.open() }
func (l *blobLayer) Size() (int64, error)                 { return l.size, nil }
func (l *blobLayer) MediaType() (types.MediaType, error) {
	return "application/vnd.oci.image.layer.v1.tar", nil
}
