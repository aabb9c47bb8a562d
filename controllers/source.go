package controllers

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// This file turns spec.source into the seeder's flags and the Secrets it mounts. Only the
// seeders touch the origin: the peers' pods carry none of this.

// Defaults of the sources.
const (
	// DefaultSourceMaxBytes bounds an oci, s3 or persistentVolumeClaim payload when
	// source.maxBytes is unset.
	DefaultSourceMaxBytes int64 = 1 << 40
	// DefaultHTTPMaxRedirects is the redirects an http source follows (the peer's default).
	DefaultHTTPMaxRedirects int32 = 10
	// DefaultS3Region is the region of an s3 source when unset.
	DefaultS3Region = "us-east-1"
	// maxDirectoryFiles bounds the file count of a directory whose files the manager cannot
	// count ahead (oci, s3, a claim's directory): the most files a torrent may hold.
	maxDirectoryFiles = 100000
)

// Where the seeders find the source's Secrets: each mounted read-only, one directory each.
const (
	httpHeadersDir  = "/etc/minibit/http"
	httpHeadersKey  = "headers"
	caDir           = "/etc/minibit/ca"
	caKey           = "ca.crt"
	ociAuthDir      = "/etc/minibit/oci"
	ociAuthFile     = "config.json"
	s3CredsDir      = "/etc/minibit/s3"
	s3AccessKeyID   = "AWS_ACCESS_KEY_ID"
	s3SecretKey     = "AWS_SECRET_ACCESS_KEY"
	sourceSecretVol = "source-secret-"
)

// sourceSecret is a user Secret a source names: which keys the seeder needs, where it mounts
// them, and the type the Secret must have ("" for any).
type sourceSecret struct {
	field, name, dir string
	items            []corev1.KeyToPath
	secretType       corev1.SecretType
}

// sourceSecrets are the Secrets the swarm's source names, in a fixed order.
func sourceSecrets(s *minibitv1alpha1.Swarm) []sourceSecret {
	src := s.Spec.Source
	var out []sourceSecret
	add := func(field, name, dir string, t corev1.SecretType, keys ...[2]string) {
		if name == "" {
			return
		}
		sec := sourceSecret{field: field, name: name, dir: dir, secretType: t}
		for _, k := range keys {
			sec.items = append(sec.items, corev1.KeyToPath{Key: k[0], Path: k[1]})
		}
		out = append(out, sec)
	}
	switch {
	case src.HTTP != nil:
		add("http.headersSecret", src.HTTP.HeadersSecret, httpHeadersDir, "", [2]string{httpHeadersKey, httpHeadersKey})
		add("http.caSecret", src.HTTP.CASecret, caDir, "", [2]string{caKey, caKey})
	case src.OCI != nil:
		add("oci.pullSecret", src.OCI.PullSecret, ociAuthDir, corev1.SecretTypeDockerConfigJson,
			[2]string{corev1.DockerConfigJsonKey, ociAuthFile})
		add("oci.caSecret", src.OCI.CASecret, caDir, "", [2]string{caKey, caKey})
	case src.S3 != nil:
		add("s3.credentialsSecret", src.S3.CredentialsSecret, s3CredsDir, "",
			[2]string{s3AccessKeyID, s3AccessKeyID}, [2]string{s3SecretKey, s3SecretKey})
		add("s3.caSecret", src.S3.CASecret, caDir, "", [2]string{caKey, caKey})
	}
	return out
}

// withSourceSecrets mounts the Secrets the source names, read-only and readable by the pod's
// group only, into the seeder's container. Peers never get them.
func withSourceSecrets(s *minibitv1alpha1.Swarm, pod *corev1.Pod) *corev1.Pod {
	for i, sec := range sourceSecrets(s) {
		vol := sourceSecretVol + strconv.Itoa(i)
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: sec.name, Items: sec.items, DefaultMode: ptr.To(publishSecretMode)},
		}})
		for c := range pod.Spec.InitContainers {
			ic := &pod.Spec.InitContainers[c]
			ic.VolumeMounts = append(ic.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: sec.dir, ReadOnly: true})
		}
		c := &pod.Spec.Containers[0]
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: sec.dir, ReadOnly: true})
	}
	return pod
}

// seederSource is the path the seeder seeds (--file) and the flags that fetch it first.
func seederSource(s *minibitv1alpha1.Swarm, st settings) (string, []string) {
	src := s.Spec.Source
	file := dataDir + "/" + sourceFileName(s)
	var args []string
	switch {
	case src.Generate != nil:
		args = []string{
			"--generate-size=" + formatSize(src.Generate.Size.Value()),
			"--generate-seed=" + strconv.FormatInt(derefOr(&src.Generate.Seed, 1), 10),
		}
	case src.HTTP != nil:
		args = httpArgs(src.HTTP, st)
	case src.OCI != nil:
		args = ociArgs(src.OCI, st)
	case src.S3 != nil:
		args = s3Args(src.S3, st)
	case src.PersistentVolumeClaim != nil:
		// path.Clean: "." (the whole claim) or "models/" name the directory itself.
		file = path.Clean(sourceDir + "/" + src.PersistentVolumeClaim.Path)
	}
	for _, g := range src.Include {
		args = append(args, "--include="+g)
	}
	for _, g := range src.Exclude {
		args = append(args, "--exclude="+g)
	}
	return file, args
}

// httpArgs are the flags of an http source: one --url per file, the bound, the Secrets' files.
func httpArgs(h *minibitv1alpha1.HTTPSource, st settings) []string {
	var args []string
	for _, u := range httpURLs(h) {
		args = append(args, "--url="+u)
	}
	args = append(args, "--max-bytes="+formatSize(st.maxBytes))
	if h.SHA256 != "" {
		args = append(args, "--url-sha256="+h.SHA256)
	}
	if h.HeadersSecret != "" {
		args = append(args, "--http-header-file="+httpHeadersDir+"/"+httpHeadersKey)
	}
	if h.CASecret != "" {
		args = append(args, "--ca-file="+caDir+"/"+caKey)
	}
	if n := derefOr(h.MaxRedirects, DefaultHTTPMaxRedirects); n != DefaultHTTPMaxRedirects {
		args = append(args, "--http-max-redirects="+strconv.Itoa(int(n)))
	}
	return args
}

// ociArgs are the flags of an oci source.
func ociArgs(o *minibitv1alpha1.OCISource, st settings) []string {
	args := []string{"--oci-ref=" + o.Ref, "--max-bytes=" + formatSize(st.maxBytes)}
	if o.PullSecret != "" {
		args = append(args, "--oci-auth-file="+ociAuthDir+"/"+ociAuthFile)
	}
	if o.CASecret != "" {
		args = append(args, "--ca-file="+caDir+"/"+caKey)
	}
	if o.PlainHTTP {
		args = append(args, "--oci-plain-http")
	}
	return args
}

// s3Args are the flags of an s3 source.
func s3Args(b *minibitv1alpha1.S3Source, st settings) []string {
	args := []string{"--s3-endpoint=" + b.Endpoint, "--s3-bucket=" + b.Bucket,
		"--s3-region=" + orDefault(b.Region, DefaultS3Region), "--max-bytes=" + formatSize(st.maxBytes)}
	if b.Prefix != "" {
		args = append(args, "--s3-prefix="+b.Prefix)
	}
	if b.CredentialsSecret != "" {
		args = append(args, "--s3-credentials-dir="+s3CredsDir)
	}
	if b.CASecret != "" {
		args = append(args, "--ca-file="+caDir+"/"+caKey)
	}
	if b.PlainHTTP {
		args = append(args, "--s3-plain-http")
	}
	return args
}

// httpURLs are the source's URLs: url alone, or urls.
func httpURLs(h *minibitv1alpha1.HTTPSource) []string {
	if h.URL != "" {
		return []string{h.URL}
	}
	return h.URLs
}

// urlFileName is the name a URL's file gets: its path's last element, without query or
// fragment (lastSegment of the raw URL: a single url is named as it always was).
func urlFileName(u string) string {
	return lastSegment(strings.SplitN(strings.SplitN(u, "?", 2)[0], "#", 2)[0])
}

// urlsFileName is the name a file of http.urls gets: its URL path's last element (decoded),
// or "" when the path ends in "/" or is empty, or the URL does not parse.
func urlsFileName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Path[strings.LastIndex(u.Path, "/")+1:]
}

// directorySource says whether the source's payload is a directory for sure (oci, s3, several
// urls); a claim's path may be either.
func directorySource(src minibitv1alpha1.Source) bool {
	return src.OCI != nil || src.S3 != nil || src.HTTP != nil && src.HTTP.URL == "" && len(src.HTTP.URLs) > 0
}

// sourceRefusal says why the manager refuses a source the API server accepted, or "": the
// files of an http.urls directory must have different, valid names (a check too costly for
// the API server's validation of 1000 URLs).
func sourceRefusal(s *minibitv1alpha1.Swarm) string {
	h := s.Spec.Source.HTTP
	if h == nil || h.URL != "" {
		return ""
	}
	seen := make(map[string]string, len(h.URLs))
	for _, u := range h.URLs {
		name := urlsFileName(u)
		if safeFileName(name, "") == "" || strings.HasPrefix(name, ".") {
			return fmt.Sprintf("http.urls: %q does not end in a valid file name (its path's last element names the file)", truncateString(u, 200))
		}
		if other, dup := seen[name]; dup {
			return fmt.Sprintf("http.urls: %q and %q would both be the file %q: the last path elements must differ",
				truncateString(other, 200), truncateString(u, 200), name)
		}
		seen[name] = u
	}
	return ""
}

// truncateString cuts s to at most n bytes for a message.
func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// pieceSizeOf reads spec.pieceSize: its bytes, or auto; the default when unset or unreadable.
func pieceSizeOf(q *intstr.IntOrString) (size int64, auto bool) {
	switch {
	case q == nil:
		return DefaultPieceSize, false
	case q.Type == intstr.Int:
		return orDefault(int64(q.IntVal), DefaultPieceSize), false
	case q.StrVal == minibitv1alpha1.PieceSizeAuto:
		return 0, true
	}
	if n, err := resource.ParseQuantity(q.StrVal); err == nil && n.Value() > 0 {
		return n.Value(), false
	}
	return DefaultPieceSize, false
}

// payloadBound is the most bytes and files the swarm's payload may hold: what the tracker's
// .torrent limit is computed from.
func payloadBound(s *minibitv1alpha1.Swarm) (bytes int64, files int) {
	src := s.Spec.Source
	switch {
	case src.Generate != nil:
		return max(src.Generate.Size.Value(), 1), 1
	case src.HTTP != nil:
		n := httpMaxBytes(src.HTTP)
		if src.HTTP.URL == "" {
			return n, max(len(src.HTTP.URLs), 1)
		}
		return n, 1
	}
	if src.MaxBytes != nil && src.MaxBytes.Value() > 0 {
		return src.MaxBytes.Value(), maxDirectoryFiles
	}
	return DefaultSourceMaxBytes, maxDirectoryFiles
}

// httpMaxBytes is http.maxBytes or its default.
func httpMaxBytes(h *minibitv1alpha1.HTTPSource) int64 {
	if h.MaxBytes != nil && h.MaxBytes.Value() > 0 {
		return h.MaxBytes.Value()
	}
	return DefaultHTTPMaxBytes
}

// secretKeysMissing lists the keys of want that sec lacks (empty values count as missing).
func secretKeysMissing(sec *corev1.Secret, want []corev1.KeyToPath) []string {
	var missing []string
	for _, k := range want {
		if len(sec.Data[k.Key]) == 0 && sec.StringData[k.Key] == "" {
			missing = append(missing, k.Key)
		}
	}
	return slices.Clip(missing)
}
