/*
Copyright 2026 The MiniBit Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// SwarmSpec is what the user asks for: one file or one directory tree, pushed from seeders to
// peers by a BitTorrent swarm that a tracker coordinates.
// +kubebuilder:validation:XValidation:rule="has(self.peers) || (has(self.placement) && has(self.placement.mode) && self.placement.mode == 'PerNode')",message="peers is required (1 to 1000) unless placement.mode is PerNode"
// +kubebuilder:validation:XValidation:rule="!has(self.placement) || !has(self.placement.mode) || self.placement.mode != 'PerNode' || !has(self.storage) || (!has(self.storage.volume) && !has(self.storage.sizeLimit))",message="storage must be empty with placement.mode PerNode: the node cache is the storage"
// +kubebuilder:validation:XValidation:rule="(has(self.placement) && has(self.placement.mode) ? self.placement.mode : 'PerPod') == (has(oldSelf.placement) && has(oldSelf.placement.mode) ? oldSelf.placement.mode : 'PerPod')",message="placement.mode cannot change while the swarm runs: create a new Swarm"
type SwarmSpec struct {
	// Source is where the seeders get the payload: exactly one of generate, http, oci, s3 or
	// persistentVolumeClaim. Only the seeders touch the source (and only they mount its
	// Secrets); every peer gets the bytes from the swarm. It cannot change while the swarm runs.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="source cannot change while the swarm runs: create a new Swarm"
	Source Source `json:"source"`

	// Peers is how many leecher pods download the file from the seeders and from each other:
	// 1 to 1000, required unless placement.mode is PerNode (there the matching nodes decide how
	// many peers run, and peers is ignored). `kubectl scale swarm` changes it.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Peers int32 `json:"peers,omitempty"`

	// Seeders is how many pods hold the whole file from the start and serve it: 1 to 100,
	// default 1.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	Seeders int32 `json:"seeders,omitempty"`

	// PieceSize is the size of the pieces the payload is split into: peers trade whole pieces,
	// each checked against its SHA-256 hash before it is kept or shared. A power of two from
	// 16Ki to 16Mi (such as 256Ki, the default), or Auto: the seeder picks it from the
	// payload's total size (256Ki up to 8Gi, then doubled so that the torrent has at most 32768
	// pieces, at most 16Mi). Larger pieces make a smaller .torrent for a large payload. It
	// cannot change while the swarm runs.
	// +kubebuilder:default="256Ki"
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="pieceSize cannot change while the swarm runs: create a new Swarm"
	// +kubebuilder:validation:XValidation:rule="string(self) == 'Auto' || (isQuantity(string(self)) && quantity(string(self)).isInteger() && quantity(string(self)).asInteger() in [16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4194304, 8388608, 16777216])",message="pieceSize must be a power of two from 16Ki to 16Mi, such as 256Ki, or Auto"
	// +optional
	PieceSize *intstr.IntOrString `json:"pieceSize,omitempty"`

	// V1Twin, when true, makes the seeders (and every MiniBit peer holding pieces) also serve
	// the payload under a v1-only torrent, its "twin": same name, pieces and files, without the
	// BitTorrent v2 keys, so that v1-only clients (aria2, Transmission 3) can download it.
	// MiniBit peers keep verifying every piece with SHA-256. Default false. It cannot change
	// while the swarm runs.
	// +kubebuilder:default=false
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="v1Twin cannot change while the swarm runs: create a new Swarm"
	// +optional
	V1Twin bool `json:"v1Twin,omitempty"`

	// Choking is how each peer chooses the peers it uploads to: a few unchoke slots given by
	// a strategy, optimistic slots given at random, both given again every interval.
	// +kubebuilder:default={}
	// +optional
	Choking Choking `json:"choking,omitempty"`

	// UploadRate caps the upload of each peer and each seeder, in bytes per second: a
	// quantity such as 4Mi (4 MiB/s). Unset: no cap.
	// +kubebuilder:validation:XValidation:rule="isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))",message="uploadRate must be a positive number of bytes per second, such as 4Mi"
	// +optional
	UploadRate *resource.Quantity `json:"uploadRate,omitempty"`

	// DownloadRate caps the download of each peer, in bytes per second: a quantity such as
	// 4Mi (4 MiB/s). Unset: no cap.
	// +kubebuilder:validation:XValidation:rule="isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))",message="downloadRate must be a positive number of bytes per second, such as 4Mi"
	// +optional
	DownloadRate *resource.Quantity `json:"downloadRate,omitempty"`

	// Tracker tunes the swarm's tracker: how often peers announce, how long it keeps a silent
	// peer, and how many peers it names in each answer.
	// +kubebuilder:default={}
	// +optional
	Tracker TrackerSettings `json:"tracker,omitempty"`

	// Network tunes each peer's connections: the timeout of network operations and the most
	// connections at once.
	// +kubebuilder:default={}
	// +optional
	Network NetworkSettings `json:"network,omitempty"`

	// FailurePolicy is what happens when pods fail or disappear, and how many failures the
	// swarm tolerates before it is Failed.
	// +kubebuilder:default={}
	// +optional
	FailurePolicy FailurePolicy `json:"failurePolicy,omitempty"`

	// Completion is what peers do once they hold the whole file, and when the finished swarm
	// is cleaned up.
	// +kubebuilder:default={}
	// +optional
	Completion Completion `json:"completion,omitempty"`

	// Storage is where each peer keeps its copy: an emptyDir unless a volume is named. It
	// cannot change while the swarm runs.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="storage cannot change while the swarm runs: create a new Swarm"
	// +optional
	Storage Storage `json:"storage,omitempty"`

	// Pod overrides the image, resources and placement of every pod of the swarm.
	// +optional
	Pod PodOverrides `json:"pod,omitempty"`

	// Placement says where the peers run: PerPod (the default: spec.peers pods wherever the
	// scheduler puts them, each with its own copy) or PerNode (one peer on every Ready node
	// that matches, each keeping its copy in the node's cache, where workloads on that node
	// find it). It cannot change its mode while the swarm runs.
	// +optional
	Placement *Placement `json:"placement,omitempty"`

	// Chaos, when set, is a drill that deletes a random peer pod every interval, up to a count,
	// so that fault tolerance can be watched. Off when unset.
	// +optional
	Chaos *Chaos `json:"chaos,omitempty"`

	// NetworkPolicy isolates the swarm: a NetworkPolicy <name>-isolation lets only the swarm's
	// own pods reach its peers, and only them and the operator reach its tracker. On unless
	// enabled is false.
	// +kubebuilder:default={}
	// +optional
	NetworkPolicy NetworkPolicySettings `json:"networkPolicy,omitempty"`
}

// PieceSizeAuto is the spec.pieceSize that lets the seeder pick the piece size from the
// payload's total size.
const PieceSizeAuto = "Auto"

// PlacementMode is how a swarm places its peers: PerPod or PerNode.
// +kubebuilder:validation:Enum=PerPod;PerNode
type PlacementMode string

const (
	// PlacementPerPod runs spec.peers peer pods wherever the scheduler puts them (two may share
	// a node), each keeping its copy in its own storage.
	PlacementPerPod PlacementMode = "PerPod"
	// PlacementPerNode runs one peer on every Ready node that matches the placement, pinned to
	// it, keeping its copy in the node's cache (the manager's --node-cache-root) under the
	// stable path <root>/by-name/<namespace>/<swarm>.
	PlacementPerNode PlacementMode = "PerNode"
)

// DefaultPlacementRetention is how long an unreferenced copy stays in a node's cache.
const DefaultPlacementRetention = time.Hour

// Placement says which nodes get a copy and how fast they get it.
// +kubebuilder:validation:XValidation:rule="(has(self.mode) && self.mode == 'PerNode') || (!has(self.nodeSelector) && !has(self.affinity) && !has(self.tolerations) && !has(self.parallelism))",message="placement.nodeSelector, affinity, tolerations and parallelism apply only with placement.mode PerNode"
type Placement struct {
	// Mode is PerPod (the default: spec.peers pods, as if placement were unset) or PerNode
	// (one peer on every Ready node that matches nodeSelector, affinity and tolerations; each
	// keeps its copy in the node's cache and the node gets the label status.nodes.label once
	// its copy is verified). PerNode needs a manager started with --node-cache-root, and an
	// empty spec.storage.
	// +kubebuilder:default=PerPod
	// +optional
	Mode PlacementMode `json:"mode,omitempty"`
	// NodeSelector picks the nodes (PerNode only): a node matches when it has every one of
	// these labels with these values. Unset: every node.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Affinity picks the nodes (PerNode only) by its requiredDuringSchedulingIgnoredDuringExecution
	// node selector terms, as a pod's node affinity does; preferred terms are ignored. Both it
	// and nodeSelector must match.
	// +optional
	Affinity *corev1.NodeAffinity `json:"affinity,omitempty"`
	// Tolerations let the node peers onto tainted nodes (PerNode only): a node with a NoSchedule
	// or NoExecute taint that these do not tolerate gets no peer. They are also the node peer
	// pods' tolerations.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// Parallelism is the most nodes that download at once (PerNode only): nodes without a
	// verified copy get a peer in waves of this many; nodes whose copy is verified keep
	// theirs and serve the next wave. At least 0; 0 (the default) starts every node at once.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Parallelism int32 `json:"parallelism,omitempty"`
	// Retention is how long a copy that no Swarm refers to any more stays in a node's cache
	// before the node's peers remove it: a duration, more than 0, default 1h. A Swarm of the
	// same content created within it finishes on that node without downloading.
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="placement.retention must be more than 0s"
	// +optional
	Retention *metav1.Duration `json:"retention,omitempty"`
}

// NetworkPolicySettings turn the swarm's NetworkPolicy on or off.
type NetworkPolicySettings struct {
	// Enabled creates the NetworkPolicy (the default, true); false removes it (for clusters
	// whose own policies already isolate the namespace, or to reach the pods from elsewhere).
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
}

// Source says where the seeders get the payload. Exactly one of generate, http, oci, s3 and
// persistentVolumeClaim is set; include and exclude choose the files of a directory.
// +kubebuilder:validation:XValidation:rule="(has(self.generate) ? 1 : 0) + (has(self.http) ? 1 : 0) + (has(self.oci) ? 1 : 0) + (has(self.s3) ? 1 : 0) + (has(self.persistentVolumeClaim) ? 1 : 0) == 1",message="source must set exactly one of generate, http, oci, s3 or persistentVolumeClaim"
// +kubebuilder:validation:XValidation:rule="(!has(self.include) && !has(self.exclude)) || has(self.oci) || has(self.s3) || has(self.persistentVolumeClaim) || (has(self.http) && has(self.http.urls))",message="source.include and source.exclude apply only to a directory: oci, s3, persistentVolumeClaim or http.urls"
// +kubebuilder:validation:XValidation:rule="!has(self.maxBytes) || has(self.oci) || has(self.s3) || has(self.persistentVolumeClaim)",message="source.maxBytes applies to oci, s3 and persistentVolumeClaim: generate is bounded by generate.size, http by http.maxBytes"
type Source struct {
	// Generate makes deterministic content from a seed number: for demos, drills and benchmarks.
	// +optional
	Generate *GenerateSource `json:"generate,omitempty"`
	// HTTP downloads one file from a URL (optionally checking its SHA-256), or a directory
	// from a list of URLs.
	// +optional
	HTTP *HTTPSource `json:"http,omitempty"`
	// OCI pulls an artifact or an image from an OCI registry (such as a model pushed with ORAS):
	// its layers become the files of a directory.
	// +optional
	OCI *OCISource `json:"oci,omitempty"`
	// S3 downloads every object under a prefix of a bucket in S3-compatible storage: a
	// directory of files at their keys below the prefix.
	// +optional
	S3 *S3Source `json:"s3,omitempty"`
	// PersistentVolumeClaim reads a file or a directory from a claim that already holds it.
	// +optional
	PersistentVolumeClaim *PVCSource `json:"persistentVolumeClaim,omitempty"`

	// Include chooses the files of a directory source (oci, s3, persistentVolumeClaim, or http
	// with urls): globs on the files' slash-separated paths relative to the directory, where *
	// matches within one path element and ** any number of elements (such as "**/*.safetensors").
	// A file is taken when it matches one of them (every file when include is empty) and none of
	// exclude. At most 64 globs of at most 256 characters.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.all(g, !g.startsWith('/'))",message="source.include globs are relative paths: they must not start with /"
	// +listType=atomic
	// +optional
	Include []string `json:"include,omitempty"`
	// Exclude leaves out the files of a directory source that match one of these globs (the
	// syntax of include), even when include takes them. At most 64 globs.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.all(g, !g.startsWith('/'))",message="source.exclude globs are relative paths: they must not start with /"
	// +listType=atomic
	// +optional
	Exclude []string `json:"exclude,omitempty"`

	// MaxBytes bounds the payload of an oci, s3 or persistentVolumeClaim source, all files
	// together: a seeder stops and fails past it, and the tracker's .torrent limit is computed
	// from it (with pieceSize and the file count). Default 1Ti. Generate is bounded by its size
	// and http by http.maxBytes.
	// +kubebuilder:validation:XValidation:rule="isQuantity(string(self)) && quantity(string(self)).isInteger() && quantity(string(self)).asInteger() > 0",message="source.maxBytes must be a positive whole number of bytes, such as 500Gi"
	// +kubebuilder:validation:XValidation:rule="!isQuantity(string(self)) || quantity(string(self)).compareTo(quantity('16Ti')) <= 0",message="source.maxBytes must be at most 16Ti"
	// +optional
	MaxBytes *resource.Quantity `json:"maxBytes,omitempty"`
}

// GenerateSource is deterministic content: the same size and seed give the same bytes.
type GenerateSource struct {
	// Size of the file, such as 64Mi, at most 1Ti (every peer writes a whole copy; generated
	// content is for demos, drills and benchmarks).
	// +kubebuilder:validation:XValidation:rule="isQuantity(string(self)) && quantity(string(self)).isInteger() && quantity(string(self)).asInteger() > 0",message="generate.size must be a positive whole number of bytes, such as 64Mi"
	// +kubebuilder:validation:XValidation:rule="!isQuantity(string(self)) || quantity(string(self)).compareTo(quantity('1Ti')) <= 0",message="generate.size must be at most 1Ti"
	Size resource.Quantity `json:"size"`
	// Seed picks the content; the same size and seed give the same file. Default 1.
	// +kubebuilder:default=1
	// +optional
	Seed int64 `json:"seed,omitempty"`
}

// HTTPSource is one file (url) or a directory of files (urls) the seeders download before they
// seed it. A download that breaks resumes where it stopped (an HTTP Range request) and is
// retried with backoff.
// +kubebuilder:validation:XValidation:rule="has(self.url) != has(self.urls)",message="http must set exactly one of url (one file) or urls (a directory)"
// +kubebuilder:validation:XValidation:rule="!has(self.sha256) || has(self.url)",message="http.sha256 applies only to a single url"
type HTTPSource struct {
	// URL of the file (http or https): the payload is this one file, named by the URL path's
	// last element.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('http://') || self.startsWith('https://')",message="http.url must start with http:// or https://"
	// +optional
	URL string `json:"url,omitempty"`
	// URLs of the files of a directory (http or https), 1 to 1000, each file named by its URL
	// path's last element (the query is not part of it): those names must be different, each a
	// valid file name (the manager refuses the Swarm otherwise, reason SourceRefused).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.all(u, u.startsWith('http://') || u.startsWith('https://'))",message="every http.urls entry must start with http:// or https://"
	// +listType=set
	// +optional
	URLs []string `json:"urls,omitempty"`
	// SHA256 is the file's expected SHA-256 in lower-case hex (only with url); the seeder
	// refuses other content and every peer checks its finished copy against it.
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{64}$`
	// +optional
	SHA256 string `json:"sha256,omitempty"`
	// MaxBytes bounds the download, all files together: a seeder stops and fails past it, and
	// the tracker's .torrent limit is computed from it. Default 32Gi.
	// +kubebuilder:default="32Gi"
	// +kubebuilder:validation:XValidation:rule="isQuantity(string(self)) && quantity(string(self)).isInteger() && quantity(string(self)).asInteger() > 0",message="http.maxBytes must be a positive whole number of bytes, such as 32Gi"
	// +kubebuilder:validation:XValidation:rule="!isQuantity(string(self)) || quantity(string(self)).compareTo(quantity('16Ti')) <= 0",message="http.maxBytes must be at most 16Ti"
	// +optional
	MaxBytes *resource.Quantity `json:"maxBytes,omitempty"`
	// HeadersSecret names a Secret in the Swarm's namespace whose key "headers" holds HTTP
	// headers sent with every request, one "Name: value" per line (such as
	// "Authorization: Bearer <token>"). Mounted read-only into the seeders only.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	HeadersSecret string `json:"headersSecret,omitempty"`
	// CASecret names a Secret in the Swarm's namespace whose key "ca.crt" holds PEM
	// certificates trusted for https, besides the system's (a private CA). Mounted read-only
	// into the seeders only.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	CASecret string `json:"caSecret,omitempty"`
	// MaxRedirects is how many redirects a request follows before it fails: 0 to 30, default
	// 10.
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=30
	// +optional
	MaxRedirects *int32 `json:"maxRedirects,omitempty"`
}

// OCISource is an artifact or an image in an OCI registry. Each layer becomes a file, named by
// its org.opencontainers.image.title annotation (as ORAS writes it) or, without one, by its
// digest; every layer's digest is checked.
type OCISource struct {
	// Ref is the artifact's reference: registry/repository:tag or
	// registry/repository@sha256:<digest>, without a scheme (such as
	// registry.example.com/models/llama:v1).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.contains('://')",message="oci.ref is registry/repository:tag or registry/repository@sha256:digest, without a scheme"
	Ref string `json:"ref"`
	// PullSecret names a Secret of type kubernetes.io/dockerconfigjson in the Swarm's namespace
	// (key .dockerconfigjson, as kubectl create secret docker-registry makes it) with the
	// registry's credentials. Mounted read-only into the seeders only. Unset: anonymous pull.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	PullSecret string `json:"pullSecret,omitempty"`
	// PlainHTTP talks to the registry over http instead of https (a registry inside the
	// cluster). Default false.
	// +optional
	PlainHTTP bool `json:"plainHTTP,omitempty"`
	// CASecret names a Secret whose key "ca.crt" holds PEM certificates trusted for the
	// registry's https, besides the system's (a registry with a private CA). Mounted read-only
	// into the seeders only.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	CASecret string `json:"caSecret,omitempty"`
}

// S3Source is every object under a prefix of a bucket in S3-compatible storage (AWS S3, MinIO,
// Ceph RGW ...). Each object becomes a file at its key relative to the prefix.
type S3Source struct {
	// Endpoint is the storage's host and optional port, without a scheme (such as
	// s3.eu-west-1.amazonaws.com or minio.storage.svc:9000).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?$`
	Endpoint string `json:"endpoint"`
	// Bucket is the bucket's name.
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9][-a-z0-9.]*[a-z0-9]$`
	Bucket string `json:"bucket"`
	// Prefix selects the objects whose keys start with it (such as models/llama/); unset:
	// the whole bucket. A prefix ending in "/" is a directory.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Prefix string `json:"prefix,omitempty"`
	// Region is the bucket's region, default us-east-1.
	// +kubebuilder:default="us-east-1"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Region string `json:"region,omitempty"`
	// CredentialsSecret names a Secret in the Swarm's namespace with the keys
	// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Mounted read-only into the seeders only.
	// Unset: anonymous requests.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	CredentialsSecret string `json:"credentialsSecret,omitempty"`
	// PlainHTTP talks to the endpoint over http instead of https (storage inside the cluster).
	// Default false.
	// +optional
	PlainHTTP bool `json:"plainHTTP,omitempty"`
	// CASecret names a Secret whose key "ca.crt" holds PEM certificates trusted for https,
	// besides the system's. Mounted read-only into the seeders only.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	CASecret string `json:"caSecret,omitempty"`
}

// PVCSource is a file or a directory inside an existing PersistentVolumeClaim, mounted
// read-only by the seeders.
type PVCSource struct {
	// ClaimName is the claim's name, in the Swarm's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ClaimName string `json:"claimName"`
	// Path of the file or the directory inside the volume, relative, without "..". A
	// directory's regular files (chosen by source.include and source.exclude) are the payload;
	// a symlink, device or socket in it fails the seeder.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(p, p == '..')",message="persistentVolumeClaim.path must be relative and must not contain '..'"
	Path string `json:"path"`
}

// ChokingStrategy is how a peer ranks the peers competing for its unchoke slots: TitForTat
// or Rarity.
// +kubebuilder:validation:Enum=TitForTat;Rarity
type ChokingStrategy string

const (
	// ChokingTitForTat unchokes the peers that upload the most to this one; once it holds the
	// whole file, a peer unchokes first the peers that sent it data.
	ChokingTitForTat ChokingStrategy = "TitForTat"
	// ChokingRarity unchokes the peers holding the pieces that fewest peers hold, for swarms
	// whose upload rates say little (such as peers sharing one machine).
	ChokingRarity ChokingStrategy = "Rarity"
)

// Choking is how each peer chooses the peers it uploads to: the unchoke slots go to the best
// candidates by the strategy, the optimistic slots to candidates picked at random; a peer in
// no slot is choked: it learns which pieces this peer has but gets none of them. The slots are
// given again every interval.
type Choking struct {
	// UnchokeSlots is how many peers each peer uploads to at once, chosen by strategy among the
	// peers that want its pieces: 1 to 64, default 4.
	// +kubebuilder:default=4
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=64
	// +optional
	UnchokeSlots int32 `json:"unchokeSlots,omitempty"`
	// OptimisticSlots is how many more peers each peer uploads to, picked at random every
	// interval, so that newcomers get their first pieces and better partners are found: 0 to
	// 16, default 1.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=16
	// +optional
	OptimisticSlots *int32 `json:"optimisticSlots,omitempty"`
	// Interval is how often each peer gives its unchoke and optimistic slots again: a duration
	// such as 10s, at least 1s, default 10s.
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s')",message="choking.interval must be at least 1s"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`
	// Strategy ranks the candidates for the unchoke slots: TitForTat (by how fast they upload
	// to this peer) or Rarity (by how rare the pieces they hold are). Default TitForTat.
	// +kubebuilder:default=TitForTat
	// +optional
	Strategy ChokingStrategy `json:"strategy,omitempty"`
}

// TrackerSettings tune the swarm's tracker, which tells each peer about a random sample of the
// others.
// +kubebuilder:validation:XValidation:rule="!has(self.announceInterval) || !has(self.peerTTL) || duration(self.peerTTL) >= duration(self.announceInterval)",message="tracker.peerTTL must be at least tracker.announceInterval: the tracker would drop peers between two of their announces"
type TrackerSettings struct {
	// AnnounceInterval is how often each peer and seeder announces itself and its progress to
	// the tracker, and learns of other peers: a duration, at least 1s, default 30s.
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s')",message="tracker.announceInterval must be at least 1s"
	// +optional
	AnnounceInterval *metav1.Duration `json:"announceInterval,omitempty"`
	// PeerTTL is how long the tracker keeps a peer it no longer hears from; then it drops the
	// peer and names it to no one. A duration, at least 1s and at least announceInterval,
	// default 5m.
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s')",message="tracker.peerTTL must be at least 1s"
	// +optional
	PeerTTL *metav1.Duration `json:"peerTTL,omitempty"`
	// NumWant is the most peers the tracker names in one answer, a random sample of the others
	// (never the asker); each peer asks for this many: 1 to 50, default 5.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=50
	// +optional
	NumWant int32 `json:"numWant,omitempty"`
}

// NetworkSettings tunes each peer's connections.
type NetworkSettings struct {
	// Timeout bounds every network operation of a peer: a dial, a write, a request to the
	// tracker. A duration, at least 100ms, default 10s.
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('100ms')",message="network.timeout must be at least 100ms"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// MaxPeers is the most connections a peer keeps at once, its own dials and accepted ones
	// together: 1 to 1000, default 50.
	// +kubebuilder:default=50
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	MaxPeers int32 `json:"maxPeers,omitempty"`
}

// FailureAction is what the controller does with a peer pod that failed or was deleted.
// +kubebuilder:validation:Enum=Replace;Ignore
type FailureAction string

const (
	// FailureActionReplace creates a new pod of the same name, after a backoff.
	FailureActionReplace FailureAction = "Replace"
	// FailureActionIgnore leaves the failed or deleted pod as it is; the swarm goes on without it.
	FailureActionIgnore FailureAction = "Ignore"
)

// FailurePolicy is what happens when pods fail or disappear, and how many failures the swarm
// tolerates before it is Failed. The tracker and the seeders are always replaced.
type FailurePolicy struct {
	// PeerAction is what happens to a peer pod that failed or was deleted: Replace (the
	// default: a new pod of the same name, after the backoff) or Ignore.
	// +kubebuilder:default=Replace
	// +optional
	PeerAction FailureAction `json:"peerAction,omitempty"`
	// MaxPeerFailures is how many peer failures the swarm tolerates; one more makes it Failed.
	// Pods deleted by the chaos drill do not count. With placement.mode PerNode it counts per
	// node: one more failure leaves that node out (no more peers there), and the swarm goes on.
	// At least 0, default 10.
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxPeerFailures *int32 `json:"maxPeerFailures,omitempty"`
	// MaxSeederFailures is the same for the seeders: at least 0, default 3.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxSeederFailures *int32 `json:"maxSeederFailures,omitempty"`
	// MaxTrackerFailures is the same for the tracker: at least 0, default 3.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxTrackerFailures *int32 `json:"maxTrackerFailures,omitempty"`
	// Backoff spaces the replacements of a pod that keeps failing: the first waits initial,
	// each next one twice as long, never more than max.
	// +kubebuilder:default={}
	// +optional
	Backoff Backoff `json:"backoff,omitempty"`
}

// Backoff is an exponential backoff: initial, then twice as long each time, capped at max.
// +kubebuilder:validation:XValidation:rule="!has(self.initial) || !has(self.max) || duration(self.initial) <= duration(self.max)",message="backoff.initial must not exceed backoff.max"
type Backoff struct {
	// Initial is the wait before the first replacement of a pod: a duration, default 1s.
	// +kubebuilder:default="1s"
	// +optional
	Initial *metav1.Duration `json:"initial,omitempty"`
	// Max caps every wait: a duration, default 5m.
	// +kubebuilder:default="5m"
	// +optional
	Max *metav1.Duration `json:"max,omitempty"`
}

// CompletionMode is what a peer does once it holds the whole file.
// +kubebuilder:validation:Enum=KeepSeeding;Exit
type CompletionMode string

const (
	// CompletionKeepSeeding keeps the peer serving the file to others (BitTorrent's way).
	CompletionKeepSeeding CompletionMode = "KeepSeeding"
	// CompletionExit stops the peer; its pod ends Succeeded.
	CompletionExit CompletionMode = "Exit"
)

// Completion is what peers do when done and when the finished swarm is cleaned up.
type Completion struct {
	// Mode is KeepSeeding (the default: a peer that holds the whole file keeps serving it) or
	// Exit (it stops, its pod ends Succeeded).
	// +kubebuilder:default=KeepSeeding
	// +optional
	Mode CompletionMode `json:"mode,omitempty"`
	// TTLSecondsAfterFinished deletes the Swarm (and so its pods) this long after it Completed
	// or Failed, as Jobs do. Unset keeps it.
	// +kubebuilder:validation:Minimum=0
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`
}

// Storage is where each peer keeps its copy, mounted at /data. Each pod writes into its own
// sub-directory (named after the pod) of a volume the user names, so many pods can share one.
type Storage struct {
	// SizeLimit bounds the default emptyDir, such as 10Gi; unset: no bound. It does not apply
	// to a volume.
	// +optional
	SizeLimit *resource.Quantity `json:"sizeLimit,omitempty"`
	// Volume replaces the emptyDir: an emptyDir, a hostPath (only under a root the cluster
	// admin allows with the manager's --allowed-host-path-roots), a persistentVolumeClaim or an
	// ephemeral volume.
	// +kubebuilder:validation:XValidation:rule="has(self.emptyDir) || has(self.hostPath) || has(self.persistentVolumeClaim) || has(self.ephemeral)",message="storage.volume must be an emptyDir, hostPath, persistentVolumeClaim or ephemeral volume"
	// +optional
	Volume *corev1.VolumeSource `json:"volume,omitempty"`
}

// PodOverrides change every pod of the swarm.
type PodOverrides struct {
	// Image holds /tracker and /peer; the manager's --image when unset.
	// +optional
	Image string `json:"image,omitempty"`
	// ImagePullPolicy of every container; the manager's default when unset.
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
	// Resources of the peer and seeder containers; when set they replace the defaults
	// (requests cpu 50m, memory 64Mi; limit memory 256Mi) as a whole.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// TrackerResources of the tracker container; when set they replace the defaults (requests
	// cpu 10m, memory 32Mi; limit memory 128Mi) as a whole.
	// +optional
	TrackerResources *corev1.ResourceRequirements `json:"trackerResources,omitempty"`
	// NodeSelector of every pod (with placement.mode PerNode: of the tracker and the seeders;
	// the placement chooses the peers' nodes).
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Tolerations of every pod.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
}

// Chaos is a drill: it deletes a random peer pod every interval until it has deleted count.
type Chaos struct {
	// Interval between two deletions; the first comes one interval after the swarm starts. A
	// duration, at least 1s, default 30s.
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s')",message="chaos.interval must be at least 1s"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`
	// Count is how many pods the drill deletes in all: 1 to 1000, default 3.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Count int32 `json:"count,omitempty"`
}

// SwarmPhase is where a swarm is in its life.
// +kubebuilder:validation:Enum=Pending;Distributing;Completed;Failed
type SwarmPhase string

const (
	// PhasePending means: pods are starting and the tracker does not know the file yet.
	PhasePending SwarmPhase = "Pending"
	// PhaseDistributing means: the seeder published the file; peers are downloading.
	PhaseDistributing SwarmPhase = "Distributing"
	// PhaseCompleted means: every peer holds the whole file.
	PhaseCompleted SwarmPhase = "Completed"
	// PhaseFailed means: more pods failed than the failure policy tolerates.
	PhaseFailed SwarmPhase = "Failed"
)

// Condition types of a Swarm.
const (
	// ConditionTrackerReady means: the tracker's JSON API answered the last poll.
	ConditionTrackerReady = "TrackerReady"
	// ConditionProgressing means: the swarm is starting or distributing.
	ConditionProgressing = "Progressing"
	// ConditionComplete means: every peer holds the whole file.
	ConditionComplete = "Complete"
	// ConditionDegraded means: some pods failed, disappeared or wait for a replacement, or the
	// tracker does not answer.
	ConditionDegraded = "Degraded"
	// ConditionFailed means: a failure limit was exceeded, or the swarm was refused.
	ConditionFailed = "Failed"
	// ConditionContentMismatch means: the tracker reports another info-hash for the swarm than
	// the one pinned in status.infoHash. Set once the content is pinned.
	ConditionContentMismatch = "ContentMismatch"
	// ConditionSourceReady means: every Secret the source names exists with its keys (and
	// the source's settings are sound). False with the reason why no pod is started yet.
	ConditionSourceReady = "SourceReady"
	// ConditionReady means, for a PerNode swarm: the manager accepts it (its node cache is
	// enabled and its node label fits). False with the reason why it runs no pods.
	ConditionReady = "Ready"
)

// NodeProgress is one node's share of the file, as its peer reports it.
type NodeProgress struct {
	// Node is the node's name.
	Node string `json:"node"`
	// ProgressPercent is the part of the file its peer holds, 0 to 100, rounded down.
	ProgressPercent int32 `json:"progressPercent"`
}

// NodeRecord is what the controller remembers of one node that ran a peer of the swarm.
type NodeRecord struct {
	// Node is the node's name.
	Node string `json:"node"`
	// Failures is how many of the node's peer pods failed.
	// +optional
	Failures int32 `json:"failures,omitempty"`
	// FailedUID is the UID of the last pod counted as failed (each pod counts once).
	// +optional
	FailedUID string `json:"failedUID,omitempty"`
	// RetryAfter is when the node's failed peer may be replaced (the failure policy's backoff).
	// +optional
	RetryAfter *metav1.Time `json:"retryAfter,omitempty"`
	// Failed says the node exceeded the failure policy: it gets no more peers and is left out.
	// +optional
	Failed bool `json:"failed,omitempty"`
	// Verified says the node holds a verified copy now (it carries the node label).
	// +optional
	Verified bool `json:"verified,omitempty"`
	// Cached says the node held a verified copy once: the Swarm's deletion releases it there.
	// +optional
	Cached bool `json:"cached,omitempty"`
}

// NodesStatus counts the nodes of a PerNode swarm.
type NodesStatus struct {
	// Wanted is how many nodes should hold a copy: the Ready nodes that match the placement
	// (and those that match and still run a peer), less the failed ones.
	Wanted int32 `json:"wanted"`
	// Ready is how many wanted nodes hold a verified copy (and carry the label).
	Ready int32 `json:"ready"`
	// Downloading is how many wanted nodes run a peer that does not hold a verified copy yet.
	Downloading int32 `json:"downloading"`
	// Failed is how many matching nodes the failure policy left out.
	Failed int32 `json:"failed"`
	// Slowest are the wanted nodes with the least progress (at most 5), slowest first.
	// +kubebuilder:validation:MaxItems=5
	// +listType=atomic
	// +optional
	Slowest []NodeProgress `json:"slowest,omitempty"`
	// Label is the node label set to "true" on a node once its copy is verified:
	// ready.minibit.io/<namespace>.<swarm>. Workloads select nodes by it.
	// +optional
	Label string `json:"label,omitempty"`
	// Path is the stable path of the copy's directory on every ready node:
	// <node-cache-root>/by-name/<namespace>/<swarm>; the file, or the payload's directory, is
	// inside it, named as the torrent (the Swarm's name for oci, s3 and http.urls; the path's
	// last element for a claim).
	// +optional
	Path string `json:"path,omitempty"`
	// Records are the nodes that ran a peer of the swarm: failures, verified copies.
	// +kubebuilder:validation:MaxItems=5000
	// +listType=map
	// +listMapKey=node
	// +optional
	Records []NodeRecord `json:"records,omitempty"`
}

// PeerProgress is one peer's share of the file.
type PeerProgress struct {
	// Name of the peer's pod.
	Name string `json:"name"`
	// ProgressPercent is the part of the file it holds, 0 to 100, rounded down.
	ProgressPercent int32 `json:"progressPercent"`
}

// DisruptionReason is why a pod went away.
// +kubebuilder:validation:Enum=Failed;Deleted;Chaos
type DisruptionReason string

const (
	// DisruptionFailed means: the pod ended in phase Failed.
	DisruptionFailed DisruptionReason = "Failed"
	// DisruptionDeleted means: the pod disappeared (deleted by someone, evicted).
	DisruptionDeleted DisruptionReason = "Deleted"
	// DisruptionChaos means: the chaos drill deleted the pod.
	DisruptionChaos DisruptionReason = "Chaos"
)

// Disruption is a pod that failed or went away and has not been replaced yet. Each is counted
// once; under Replace it is removed when its replacement is created.
type Disruption struct {
	// Pod is the pod's name.
	Pod string `json:"pod"`
	// UID of the pod that failed, empty when it vanished before the controller saw it end.
	// +optional
	UID string `json:"uid,omitempty"`
	// Reason is Failed, Deleted or Chaos.
	Reason DisruptionReason `json:"reason"`
	// Attempt of the pod that went away (0 for the first pod of that name).
	Attempt int32 `json:"attempt"`
	// Time the controller recorded it.
	Time metav1.Time `json:"time"`
}

// Launched is how far pod creation got: pods below these marks existed once, so a missing one
// was deleted rather than never created.
type Launched struct {
	// Tracker is true once the tracker pod was created.
	// +optional
	Tracker bool `json:"tracker,omitempty"`
	// Seeders is how many seeder pods (from index 0) were created.
	// +optional
	Seeders int32 `json:"seeders,omitempty"`
	// Peers is how many peer pods (from index 0) were created.
	// +optional
	Peers int32 `json:"peers,omitempty"`
}

// ChaosStatus is what the chaos drill did.
type ChaosStatus struct {
	// Deleted is how many pods it deleted.
	Deleted int32 `json:"deleted"`
	// LastDeletionTime is when it deleted the last one.
	// +optional
	LastDeletionTime *metav1.Time `json:"lastDeletionTime,omitempty"`
}

// PayloadStatus describes a swarm's content, from the .torrent the seeders published.
type PayloadStatus struct {
	// Files is how many files the payload holds (1 for a single file; pad files not counted).
	Files int32 `json:"files"`
	// TotalBytes is the payload's size, all files together, in bytes.
	TotalBytes int64 `json:"totalBytes"`
	// ContentID is the content's identity, "sha256:" and the BitTorrent v2 info-hash in hex:
	// the same files with the same names and piece size give the same identity wherever they
	// come from.
	// +kubebuilder:validation:Pattern=`^sha256:[0-9a-f]{64}$`
	// +optional
	ContentID string `json:"contentID,omitempty"`
	// InfoHash is the v1 info-hash in hex, the key peers announce with (status.infoHash pins it).
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{40}$`
	// +optional
	InfoHash string `json:"infoHash,omitempty"`
	// PieceSize is the size of a piece in bytes (the one Auto chose, with pieceSize Auto).
	// +optional
	PieceSize int64 `json:"pieceSize,omitempty"`
}

// SwarmStatus is what the swarm has done, as the controller and the tracker see it.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.infoHash) || (has(self.infoHash) && self.infoHash == oldSelf.infoHash)",message="status.infoHash is pinned once set"
type SwarmStatus struct {
	// Phase is Pending, Distributing, Completed or Failed.
	// +optional
	Phase SwarmPhase `json:"phase,omitempty"`
	// ObservedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Desired is how many peers the swarm should have.
	// +optional
	Desired int32 `json:"desired,omitempty"`
	// Running is how many peer pods run.
	// +optional
	Running int32 `json:"running,omitempty"`
	// Completed is how many peers hold the whole file.
	// +optional
	Completed int32 `json:"completed,omitempty"`
	// Failed is how many peer failures were counted (not the chaos drill's deletions).
	// +optional
	Failed int32 `json:"failed,omitempty"`
	// SeederFailures and TrackerFailures are the same for the seeders and the tracker.
	// +optional
	SeederFailures int32 `json:"seederFailures,omitempty"`
	// +optional
	TrackerFailures int32 `json:"trackerFailures,omitempty"`
	// Restarts is how many replacement pods were created, all roles together.
	// +optional
	Restarts int32 `json:"restarts,omitempty"`

	// ProgressPercent is the part of all pieces that all peers hold, 0 to 100, rounded down.
	// +optional
	ProgressPercent int32 `json:"progressPercent,omitempty"`
	// SlowestPeers are the peers with the least progress (at most 10), slowest first.
	// +kubebuilder:validation:MaxItems=10
	// +listType=atomic
	// +optional
	SlowestPeers []PeerProgress `json:"slowestPeers,omitempty"`
	// InfoHash is the file's v1 info-hash in hex, once the seeder has published it. It is
	// pinned: it never changes afterwards, and peers created later refuse any other content.
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{40}$`
	// +optional
	InfoHash string `json:"infoHash,omitempty"`
	// Pieces is the file's piece count, once known (pinned with infoHash).
	// +optional
	Pieces int32 `json:"pieces,omitempty"`
	// Payload describes the content the seeders published: its file count, total size and
	// content identity, as the tracker read them from the published .torrent.
	// +optional
	Payload *PayloadStatus `json:"payload,omitempty"`

	// StartTime is when the controller first acted on the swarm.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// CompletionTime is when the swarm Completed or Failed.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// Conditions are TrackerReady, Progressing, Complete, Degraded and Failed, and
	// ContentMismatch once the content is pinned.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Launched records how far pod creation got.
	// +optional
	Launched Launched `json:"launched,omitempty"`
	// Disruptions are the pods that failed or went away and were not replaced yet.
	// +kubebuilder:validation:MaxItems=1101
	// +listType=atomic
	// +optional
	Disruptions []Disruption `json:"disruptions,omitempty"`
	// Chaos is what the chaos drill did.
	// +optional
	Chaos *ChaosStatus `json:"chaos,omitempty"`
	// Selector selects the peer pods (for the scale subresource).
	// +optional
	Selector string `json:"selector,omitempty"`
	// Nodes counts the nodes of a PerNode swarm: wanted, ready, downloading, failed.
	// +optional
	Nodes *NodesStatus `json:"nodes,omitempty"`
}

// Swarm pushes one file or a directory tree to many pods with BitTorrent: a tracker, seeders
// that hold the payload, and peers that download it from each other.
// +kubebuilder:object:root=true
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 50",message="a Swarm's name must be at most 50 characters: its pods are named <name>-peer-<i> and its tracker Service <name>-tracker"
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.peers,statuspath=.status.running,selectorpath=.status.selector
// +kubebuilder:resource:shortName=sw,categories=minibit
// +kubebuilder:printcolumn:name="Peers",type=integer,JSONPath=`.spec.peers`
// +kubebuilder:printcolumn:name="Nodes",type=integer,JSONPath=`.status.nodes.ready`,description="Nodes holding a verified copy (PerNode)"
// +kubebuilder:printcolumn:name="Wanted",type=integer,JSONPath=`.status.nodes.wanted`,description="Nodes that should hold a copy (PerNode)"
// +kubebuilder:printcolumn:name="Complete",type=integer,JSONPath=`.status.completed`
// +kubebuilder:printcolumn:name="Progress",type=integer,JSONPath=`.status.progressPercent`,description="Percent of all pieces held by all peers"
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Files",type=integer,JSONPath=`.status.payload.files`,description="Files in the payload"
// +kubebuilder:printcolumn:name="Size",type=integer,JSONPath=`.status.payload.totalBytes`,priority=1,description="Payload bytes, all files together"
// +kubebuilder:printcolumn:name="Failed",type=integer,JSONPath=`.status.failed`,priority=1
// +kubebuilder:printcolumn:name="Restarts",type=integer,JSONPath=`.status.restarts`,priority=1
// +kubebuilder:printcolumn:name="InfoHash",type=string,JSONPath=`.status.infoHash`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Swarm struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SwarmSpec   `json:"spec"`
	Status SwarmStatus `json:"status,omitempty"`
}

// SwarmList is a list of Swarms.
// +kubebuilder:object:root=true
type SwarmList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Swarm `json:"items"`
}
