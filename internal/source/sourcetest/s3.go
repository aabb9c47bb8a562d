package sourcetest

import (
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// NewS3 is an S3-compatible server (gofakes3, objects in memory) and its backend, to fill with
// PutDir or Backend.PutObject. With accessKey set, a request not signed with that access key is
// refused with 403 (gofakes3 checks no signature itself; this checks the key, not the
// signature).
func NewS3(accessKey string) (http.Handler, gofakes3.Backend) {
	backend := s3mem.New()
	h := gofakes3.New(backend, gofakes3.WithAutoBucket(false)).Server()
	if accessKey == "" {
		return h, backend
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Authorization"), "Credential="+accessKey+"/") {
			http.Error(w, "access denied", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	}), backend
}

// PutDir creates bucket (when missing) and puts every regular file under dir at the key
// prefix + its slash path.
func PutDir(backend gofakes3.Backend, bucket, prefix, dir string) error {
	if err := backend.CreateBucket(bucket); err != nil && !gofakes3.HasErrorCode(err, gofakes3.ErrBucketAlreadyExists) {
		return err
	}
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return err
		}
		_, err = backend.PutObject(bucket, path.Join(prefix, filepath.ToSlash(rel)), ObjectMeta(), f, info.Size(), nil)
		return err
	})
}

// ObjectMeta is the metadata gofakes3 gives an object uploaded over HTTP (its Last-Modified),
// for objects put into its backend directly.
func ObjectMeta() map[string]string {
	return map[string]string{"Last-Modified": time.Now().UTC().Format(http.TimeFormat)}
}
