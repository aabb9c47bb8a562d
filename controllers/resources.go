package controllers

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Default resources of the swarm's containers; spec.pod.resources and
// spec.pod.trackerResources replace them as a whole. Requests are small so that many peers share
// a node; the memory limits come from the engine's measured peaks with room to spare. No CPU
// limit: throttling a peer slows the whole swarm and protects nothing a request does not.
var (
	// defaultPeerResources: a peer's partial pieces are bounded at 64 MiB, and its verified
	// pieces waiting for the disk (the write-behind) at as much again; 256 MiB holds both plus
	// the runtime, with GOMEMLIMIT set from the limit so that the collector's headroom stays
	// inside it, well above the peak measured on a 1 GiB download (docs/benchmarks.md).
	defaultPeerResources = resourceRequirements("50m", "64Mi", "256Mi")
	// defaultTrackerResources: the tracker holds one swarm's .torrent (at most 8 MiB) and
	// peers (a bitfield each, at most 16 KiB for 131072 pieces, 1,100 pods at most).
	defaultTrackerResources = resourceRequirements("10m", "32Mi", "128Mi")
)

// goMemLimit gives the Go runtime the container's memory limit as its soft limit, so that the
// garbage collector works harder before the kernel's OOM killer would. Without a limit the
// downward API gives the node's allocatable memory: no change.
var goMemLimit = corev1.EnvVar{Name: "GOMEMLIMIT", ValueFrom: &corev1.EnvVarSource{
	ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1")},
}}

func resourceRequirements(cpu, memory, memoryLimit string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(cpu),
			corev1.ResourceMemory: resource.MustParse(memory),
		},
		Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memoryLimit)},
	}
}
