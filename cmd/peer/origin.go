package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minibit-io/minibit/internal/generate"
	"github.com/minibit-io/minibit/internal/metainfo"
	"github.com/minibit-io/minibit/internal/source"
)

// listFlag is a repeatable string flag (--url A --url B).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	if v == "" {
		return errors.New("empty value")
	}
	*l = append(*l, v)
	return nil
}

// pieceSizeFlag is --piece-size: a power-of-two size such as 256KiB, or "auto" (stored as 0),
// which picks metainfo.AutoPieceLength of the payload's size.
type pieceSizeFlag int64

func (p *pieceSizeFlag) String() string {
	if *p == 0 {
		return "auto"
	}
	return fmt.Sprint(int64(*p))
}

func (p *pieceSizeFlag) Set(v string) error {
	if strings.EqualFold(v, "auto") {
		*p = 0
		return nil
	}
	n, err := generate.ParseSize(v)
	if err != nil {
		return err
	}
	if err := metainfo.ValidPieceLength(n); err != nil {
		return err
	}
	*p = pieceSizeFlag(n)
	return nil
}

// originFlags are seed's flags that say where a missing payload comes from: generated, HTTP(S)
// URLs, an OCI registry or S3-compatible storage. Only seeders touch the origin.
type originFlags struct {
	urls                 listFlag
	urlSHA, headerFile   string
	caFile               string
	maxRedirects         int
	maxBytes             sizeFlag
	genSize              sizeFlag
	genSeed              uint64
	ociRef, ociAuth      string
	ociPlainHTTP         bool
	s3Endpoint, s3Bucket string
	s3Prefix, s3Region   string
	s3Credentials        string
	s3PlainHTTP          bool
	include, exclude     listFlag
	pieceSize            pieceSizeFlag
}

func (o *originFlags) add(fs *flag.FlagSet) {
	o.maxBytes = sizeFlag(defaultMaxDownloadBytes)
	o.pieceSize = pieceSizeFlag(metainfo.DefaultPieceLength)
	fs.Var(&o.pieceSize, "piece-size", "piece size of the torrent created with --swarm: a power of two such as 256KiB, or auto (from the payload's size)")
	fs.Var(&o.genSize, "generate-size", "first write a deterministic file of this size when --file is absent")
	fs.Uint64Var(&o.genSeed, "generate-seed", 1, "content seed of --generate-size")
	fs.Var(&o.urls, "url", "first download the payload from this HTTP(S) URL when --file is absent; repeat it for a directory of several files")
	fs.StringVar(&o.urlSHA, "url-sha256", "", "expected SHA-256 (hex) of a single --url download")
	fs.StringVar(&o.headerFile, "http-header-file", "", "file of \"Name: value\" lines sent with every --url request (such as a bearer token from a Secret)")
	fs.StringVar(&o.caFile, "ca-file", "", "PEM bundle of extra certificate authorities trusted for HTTPS origins (--url, --oci-ref, --s3-endpoint)")
	fs.IntVar(&o.maxRedirects, "http-max-redirects", 10, "most redirects followed by a --url request")
	fs.Var(&o.maxBytes, "max-bytes", "most bytes taken from the origin; a larger payload fails")
	fs.StringVar(&o.ociRef, "oci-ref", "", "first pull the payload from this OCI artifact or image (registry/repo:tag or @sha256:digest) when --file is absent")
	fs.StringVar(&o.ociAuth, "oci-auth-file", "", "a .dockerconfigjson (a pull secret) for --oci-ref")
	fs.BoolVar(&o.ociPlainHTTP, "oci-plain-http", false, "reach --oci-ref's registry over plain HTTP")
	fs.StringVar(&o.s3Endpoint, "s3-endpoint", "", "first download every object under --s3-bucket/--s3-prefix from this S3-compatible endpoint (host:port) when --file is absent")
	fs.StringVar(&o.s3Bucket, "s3-bucket", "", "bucket of --s3-endpoint")
	fs.StringVar(&o.s3Prefix, "s3-prefix", "", "key prefix of the objects to take from --s3-bucket")
	fs.StringVar(&o.s3Region, "s3-region", "us-east-1", "region of --s3-endpoint")
	fs.StringVar(&o.s3Credentials, "s3-credentials-dir", "", "directory holding the files AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a mounted Secret)")
	fs.BoolVar(&o.s3PlainHTTP, "s3-plain-http", false, "reach --s3-endpoint over plain HTTP")
	fs.Var(&o.include, "include", "take only the files of a directory payload matching this glob (slash paths, ** for any depth); repeatable")
	fs.Var(&o.exclude, "exclude", "leave out the files of a directory payload matching this glob; repeatable")
}

// spec is the origin the flags name, or ok false when none (the payload must exist, or be
// generated).
func (o *originFlags) spec() (source.Spec, bool, error) {
	spec := source.Spec{MaxBytes: int64(o.maxBytes), CAFile: o.caFile}
	n := 0
	if len(o.urls) > 0 {
		n++
		spec.HTTP = &source.HTTP{URLs: o.urls, SHA256: o.urlSHA, HeaderFile: o.headerFile, MaxRedirects: o.maxRedirects}
	}
	if o.ociRef != "" {
		n++
		spec.OCI = &source.OCI{Ref: o.ociRef, AuthFile: o.ociAuth, PlainHTTP: o.ociPlainHTTP}
	}
	if o.s3Endpoint != "" || o.s3Bucket != "" {
		n++
		spec.S3 = &source.S3{Endpoint: o.s3Endpoint, Bucket: o.s3Bucket, Prefix: o.s3Prefix,
			Region: o.s3Region, CredentialsDir: o.s3Credentials, PlainHTTP: o.s3PlainHTTP}
	}
	if o.genSize > 0 {
		n++
	}
	switch {
	case n > 1:
		return spec, false, usagef("seed: give one origin: --generate-size, --url, --oci-ref or --s3-endpoint")
	case o.urlSHA != "" && len(o.urls) != 1:
		return spec, false, usagef("seed: --url-sha256 needs exactly one --url")
	case o.maxBytes <= 0:
		return spec, false, usagef("seed: --max-bytes must be positive")
	}
	return spec, spec.HTTP != nil || spec.OCI != nil || spec.S3 != nil, nil
}

// defaultMaxDownloadBytes is seed --max-bytes: the most an origin may send (64 GiB).
const defaultMaxDownloadBytes = source.DefaultMaxBytes

// prepare makes sure the payload to seed exists at path: fetched from the origin (every
// request bounded by timeout) or generated.
func (o *originFlags) prepare(ctx context.Context, log *slog.Logger, path string, timeout time.Duration) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	spec, fetch, err := o.spec()
	if err != nil {
		return err
	}
	spec.Timeout = timeout
	switch {
	case fetch:
		start := time.Now()
		log.Info("Fetching the payload to seed from its origin", "origin", describeOrigin(spec), "path", path, "maxBytes", spec.MaxBytes)
		res, err := source.Fetch(ctx, log, spec, path)
		if err != nil {
			return err
		}
		log.Info("Payload fetched", "files", res.Files, "bytes", res.Bytes, "seconds", time.Since(start).Seconds())
		return nil
	case o.genSize > 0:
		log.Info("Generating the file to seed", "file", path, "bytes", int64(o.genSize), "seed", o.genSeed)
		return generate.WriteFile(path, o.genSeed, int64(o.genSize))
	}
	return fmt.Errorf("seed: %s does not exist (give --url, --oci-ref, --s3-endpoint or --generate-size to make it)", path)
}

// createOptions are the torrent's choices for the payload at path: the piece size (auto from
// the payload's size) and the include and exclude globs.
func (o *originFlags) createOptions(path string) (metainfo.CreateOptions, error) {
	opts := metainfo.CreateOptions{PieceLength: int64(o.pieceSize), Include: o.include, Exclude: o.exclude}
	if opts.PieceLength == 0 {
		total, err := treeBytes(path)
		if err != nil {
			return opts, err
		}
		opts.PieceLength = metainfo.AutoPieceLength(total)
	}
	return opts, nil
}

// treeBytes is the size of the file at path, or of every regular file under the directory.
func treeBytes(path string) (int64, error) {
	var total int64
	err := filepath.WalkDir(path, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return err
	})
	return total, err
}

// describeOrigin names the origin for logs, without credentials or header values.
func describeOrigin(spec source.Spec) string {
	switch {
	case spec.HTTP != nil:
		return fmt.Sprintf("http (%d URL(s), first %s)", len(spec.HTTP.URLs), source.RedactURL(spec.HTTP.URLs[0]))
	case spec.OCI != nil:
		return "oci " + spec.OCI.Ref
	case spec.S3 != nil:
		return fmt.Sprintf("s3 %s/%s/%s", spec.S3.Endpoint, spec.S3.Bucket, spec.S3.Prefix)
	}
	return "none"
}

// hashProgressEvery is how often a seeder hashing its payload logs how far it got.
const hashProgressEvery = 10 * time.Second

// hashProgress is metainfo's Progress callback for a seeder: a log line at most every interval
// (and the last one), with the bytes hashed, the percentage and the rate, so that hashing a
// large payload shows it is alive.
func hashProgress(log *slog.Logger, start time.Time, every time.Duration) func(done, total int64) {
	last := start
	return func(done, total int64) {
		now := time.Now()
		if done < total && now.Sub(last) < every {
			return
		}
		last = now
		secs := now.Sub(start).Seconds()
		log.Info("Hashing the payload", "bytes", done, "total", total,
			"percent", fmt.Sprintf("%.1f", 100*float64(done)/float64(max(total, 1))),
			"MiBps", fmt.Sprintf("%.0f", float64(done)/(1<<20)/max(secs, 1e-3)))
	}
}
