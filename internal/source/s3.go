package source

import (
	"context"
	"crypto/md5" //nolint:gosec // S3's ETag of a single-part object is the MD5 of its bytes; checked, not trusted for security
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/minibit-io/minibit/internal/backoff"
)

// maxCredentialBytes bounds each credentials file.
const maxCredentialBytes = 4 << 10

// s3Object is one object to fetch: its key, its path relative to the prefix, size and ETag.
type s3Object struct {
	key, path, etag string
	size            int64
}

// s3Getter fetches the objects of one bucket.
type s3Getter struct {
	log    *slog.Logger
	spec   Spec
	client *minio.Client
}

// fetchS3 fetches every object under spec.S3.Prefix into the directory dest: the listing first
// (keys checked, total within the limit), then each object, resumed with a Range after a
// failure, its size and (for a single-part upload) its MD5 ETag checked, through
// "<dest>.partial".
func fetchS3(ctx context.Context, log *slog.Logger, spec Spec, dest string) (Result, error) {
	client, err := s3Client(spec)
	if err != nil {
		return Result{}, err
	}
	g := &s3Getter{log: log, spec: spec, client: client}
	prefix := spec.S3.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	var objects []s3Object
	err = backoff.Retry(ctx, spec.Retry, func(ctx context.Context) error {
		objects, err = g.list(ctx, prefix)
		var fe *fatalError
		if errors.As(err, &fe) {
			return backoff.Permanent(err)
		}
		return err
	})
	if err != nil {
		return Result{}, err
	}
	log.Info("S3 objects listed", "bucket", spec.S3.Bucket, "prefix", prefix, "files", len(objects))
	return g.fetchAll(ctx, objects, dest)
}

// s3Client builds the client: path-style addressing, the spec's transport, credentials from
// files, minio's own retries off (internal/backoff retries).
func s3Client(spec Spec) (*minio.Client, error) {
	s := spec.S3
	if s.Bucket == "" {
		return nil, errors.New("source: s3: no bucket")
	}
	host, err := s3Host(s.Endpoint, s.PlainHTTP)
	if err != nil {
		return nil, err
	}
	creds, err := s3Credentials(s.CredentialsDir)
	if err != nil {
		return nil, err
	}
	tr, err := newTransport(spec)
	if err != nil {
		return nil, err
	}
	region := s.Region
	if region == "" {
		region = "us-east-1"
	}
	c, err := minio.New(host, &minio.Options{
		Creds: creds, Secure: !s.PlainHTTP, Region: region, Transport: tr,
		BucketLookup: minio.BucketLookupPath, MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("source: s3: %w", err)
	}
	return c, nil
}

// s3Host is the endpoint's host[:port]; a URL's scheme must agree with plainHTTP.
func s3Host(endpoint string, plainHTTP bool) (string, error) {
	if endpoint == "" {
		return "", errors.New("source: s3: no endpoint")
	}
	if !strings.Contains(endpoint, "://") {
		return endpoint, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("source: s3: endpoint %q is not host[:port] or scheme://host[:port]", endpoint)
	}
	if (u.Scheme == "http") != plainHTTP || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("source: s3: endpoint scheme %q disagrees with plainHTTP=%t", u.Scheme, plainHTTP)
	}
	return u.Host, nil
}

// s3Credentials reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the optional
// AWS_SESSION_TOKEN from dir; anonymous when dir is "".
func s3Credentials(dir string) (*credentials.Credentials, error) {
	if dir == "" {
		return credentials.NewStatic("", "", "", credentials.SignatureAnonymous), nil
	}
	read := func(name string, optional bool) (string, error) {
		b, err := readSmallFile(filepath.Join(dir, name), maxCredentialBytes)
		if err != nil && optional && errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("source: s3: credentials: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	id, err := read("AWS_ACCESS_KEY_ID", false)
	if err != nil {
		return nil, err
	}
	secret, err := read("AWS_SECRET_ACCESS_KEY", false)
	if err != nil {
		return nil, err
	}
	token, err := read("AWS_SESSION_TOKEN", true)
	if err != nil {
		return nil, err
	}
	return credentials.NewStaticV4(id, secret, token), nil
}

// list returns every object under prefix, keys checked as relative paths, at most MaxFiles and
// spec.MaxBytes in total; "directory marker" keys ending in "/" are skipped.
func (g *s3Getter) list(ctx context.Context, prefix string) ([]s3Object, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when we return early
	var objects []s3Object
	var paths []string
	var total int64
	listed := 0
	for o := range g.client.ListObjects(ctx, g.spec.S3.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, s3Error("listing "+g.spec.S3.Bucket+"/"+prefix, o.Err)
		}
		if listed++; listed > 2*MaxFiles {
			return nil, backoff.Permanent(fmt.Errorf("source: s3: more than %d keys under %q", 2*MaxFiles, prefix))
		}
		if strings.HasSuffix(o.Key, "/") {
			continue
		}
		rel, ok := strings.CutPrefix(o.Key, prefix)
		if !ok {
			return nil, fmt.Errorf("source: s3: the listing of %q returned the key %q", prefix, o.Key)
		}
		if err := checkRelPath(rel); err != nil {
			return nil, backoff.Permanent(fmt.Errorf("source: s3: key %q: %w", o.Key, err))
		}
		total += o.Size
		if o.Size < 0 || total > g.spec.MaxBytes {
			return nil, backoff.Permanent(fmt.Errorf("source: s3: %w (%d bytes)", ErrTooLarge, g.spec.MaxBytes))
		}
		if len(objects) == MaxFiles {
			return nil, backoff.Permanent(fmt.Errorf("source: s3: more than %d objects", MaxFiles))
		}
		objects = append(objects, s3Object{key: o.Key, path: rel, etag: o.ETag, size: o.Size})
		paths = append(paths, rel)
	}
	if len(objects) == 0 {
		return nil, backoff.Permanent(fmt.Errorf("source: s3: no object under %s/%s", g.spec.S3.Bucket, prefix))
	}
	if err := checkTree(paths); err != nil {
		return nil, backoff.Permanent(fmt.Errorf("source: s3: keys: %w", err))
	}
	return objects, nil
}

// fetchAll downloads every object into the directory dest.
func (g *s3Getter) fetchAll(ctx context.Context, objects []s3Object, dest string) (Result, error) {
	return fillDir(dest, len(objects), func(pd *partialDir, i int) (int64, error) {
		return objects[i].size, g.fetchObject(ctx, pd, objects[i])
	})
}

// fetchObject downloads one object (only the version listed: If-Match its ETag) and checks
// its size and, when the ETag is a plain MD5, its MD5.
func (g *s3Getter) fetchObject(ctx context.Context, pd *partialDir, o s3Object) error {
	file, err := pd.create(o.path)
	if err != nil {
		return fmt.Errorf("source: s3: %w", err)
	}
	d := &download{url: "s3://" + g.spec.S3.Bucket + "/" + o.key, f: file, h: md5.New(), limit: o.size, size: o.size, immutable: true} //nolint:gosec // see the import
	md5ETag := true
	err = retryResuming(ctx, g.log, g.spec.Retry, d, func(ctx context.Context, d *download) error {
		encrypted, err := g.attempt(ctx, d, o)
		md5ETag = !encrypted
		return err
	})
	if err == nil && d.n != o.size {
		err = fmt.Errorf("source: s3: %s has %d bytes, the listing says %d", d.url, d.n, o.size)
	}
	if sum := hex.EncodeToString(d.h.Sum(nil)); err == nil && md5ETag && isMD5(o.etag) && sum != strings.ToLower(o.etag) {
		err = fmt.Errorf("source: s3: %s: the bytes received have MD5 %s, its ETag says %s", d.url, sum, o.etag)
	}
	if err == nil {
		err = file.Sync()
	}
	return errors.Join(err, file.Close())
}

// attempt GETs the rest of the object (from d.n) and writes it; it reports whether the object
// is encrypted with SSE-KMS or SSE-C (its ETag is then no MD5).
func (g *s3Getter) attempt(ctx context.Context, d *download, o s3Object) (bool, error) {
	ctx, guard, stop := newStallGuard(ctx, g.spec.StallTimeout)
	defer stop()
	var opts minio.GetObjectOptions
	if o.etag != "" {
		_ = opts.SetMatchETag(o.etag)
	}
	if d.n > 0 {
		if err := opts.SetRange(d.n, o.size-1); err != nil {
			return false, fatal(err)
		}
	}
	obj, err := g.client.GetObject(ctx, g.spec.S3.Bucket, o.key, opts)
	if err != nil {
		return false, s3Error(d.url, err)
	}
	defer obj.Close()
	guard.start(obj)
	err = guard.wrap(d.write(guard))
	encrypted := false
	if info, statErr := obj.Stat(); statErr == nil {
		sse := info.Metadata.Get("X-Amz-Server-Side-Encryption")
		encrypted = strings.HasPrefix(sse, "aws:kms") || info.Metadata.Get("X-Amz-Server-Side-Encryption-Customer-Algorithm") != ""
	}
	if err != nil {
		return encrypted, s3Error(d.url, err)
	}
	return encrypted, nil
}

// s3Error marks an answer no retry can fix (a 4xx but 408 and 429: missing bucket or key,
// denied, the object changed) as fatal.
func s3Error(what string, err error) error {
	var fe *fatalError
	if errors.As(err, &fe) {
		return err
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) && er.StatusCode >= 400 && er.StatusCode < 500 &&
		er.StatusCode != http.StatusRequestTimeout && er.StatusCode != http.StatusTooManyRequests {
		return fatal(fmt.Errorf("source: s3: %s: %s (%d %s)", what, er.Message, er.StatusCode, er.Code))
	}
	return fmt.Errorf("source: s3: %s: %w", what, err)
}

// isMD5 tells an ETag that is the MD5 of the object (a single-part upload): 32 hex digits.
func isMD5(etag string) bool {
	b, err := hex.DecodeString(etag)
	return err == nil && len(b) == md5.Size
}
