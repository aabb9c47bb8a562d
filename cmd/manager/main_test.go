package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/minibit-io/minibit/controllers"
)

func TestParseFlagsManagerNamespace(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "POD_NAMESPACE" {
				return v
			}
			return ""
		}
	}
	o, err := parseFlags(nil, env("minibit-system"))
	if err != nil || o.managerNamespace != "minibit-system" {
		t.Errorf("from POD_NAMESPACE: %q %v", o.managerNamespace, err)
	}
	o, err = parseFlags([]string{"--manager-namespace=ops"}, env("minibit-system"))
	if err != nil || o.managerNamespace != "ops" {
		t.Errorf("the flag over POD_NAMESPACE: %q %v", o.managerNamespace, err)
	}
	if o, _ := parseFlags(nil, env("")); o.managerNamespace != "" {
		t.Errorf("neither: %q", o.managerNamespace)
	}
}

func TestParseFlagsHostPathRoots(t *testing.T) {
	none := func(string) string { return "" }
	o, err := parseFlags(nil, none)
	if err != nil || len(o.hostPathRoots) != 0 {
		t.Errorf("default: %q %v, want no root", o.hostPathRoots, err)
	}
	o, err = parseFlags([]string{"--allowed-host-path-roots=/var/cache/minibit/,/data"}, none)
	if err != nil {
		t.Fatalf("two roots: %v", err)
	}
	if diff := cmp.Diff(controllers.HostPathRoots{"/var/cache/minibit", "/data"}, o.hostPathRoots); diff != "" {
		t.Errorf("two roots mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"cache", "/var/../etc"} {
		if _, err := parseFlags([]string{"--allowed-host-path-roots=" + bad}, none); err == nil {
			t.Errorf("root %q accepted", bad)
		}
	}
}

func TestParseFlagsNodeCacheRoot(t *testing.T) {
	none := func(string) string { return "" }
	o, err := parseFlags(nil, none)
	if err != nil || o.nodeCacheRoot != "" {
		t.Errorf("default: %q %v, want no node cache", o.nodeCacheRoot, err)
	}
	o, err = parseFlags([]string{"--node-cache-root=/var/lib/minibit/cache"}, none)
	if err != nil || o.nodeCacheRoot != "/var/lib/minibit/cache" {
		t.Errorf("a root: %q %v", o.nodeCacheRoot, err)
	}
	for _, bad := range []string{"cache", "/var/lib/../etc", "/var/lib/minibit/", "/var//lib", "/"} {
		if _, err := parseFlags([]string{"--node-cache-root=" + bad}, none); err == nil {
			t.Errorf("root %q accepted", bad)
		}
	}
}
