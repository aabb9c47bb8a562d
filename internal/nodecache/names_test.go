package nodecache

import (
	"strings"
	"testing"
)

// Hostile names never reach the file system: anything but two DNS labels is refused.
func TestParseNameRefusesHostileNames(t *testing.T) {
	for _, bad := range []string{
		"", "ns", "/", "ns/", "/swarm", "../x", "ns/..", "ns/.", "../../etc/passwd", "a/b/c",
		"/abs/path", "ns/a/b", "NS/swarm", "ns/Swarm", "ns/-swarm", "ns/swarm-", "ns/sw_arm",
		"ns/sw.arm", "ns/" + strings.Repeat("a", 64), strings.Repeat("a", 64) + "/swarm",
		"ns/swarm\x00", "ns/ swarm", "ns\\x/swarm",
	} {
		if n, err := ParseName(bad); err == nil {
			t.Errorf("ParseName(%q) = %+v, want an error", bad, n)
		}
	}
	n, err := ParseName("team-a/" + strings.Repeat("w", 63))
	if err != nil || n.Namespace != "team-a" || n.Swarm != strings.Repeat("w", 63) {
		t.Fatalf("ParseName of a good name: %+v, %v", n, err)
	}
}

// A torrent's file name (the tracker's, so an attacker's) cannot leave its content directory
// or take the record's name.
func TestCheckFileNameRefusesHostileNames(t *testing.T) {
	for _, bad := range []string{"", ".", "..", ".verified", ".verified.tmp-1", "a/b", "../x", "/etc/passwd",
		"a\\b", "a\x00b", strings.Repeat("x", 251)} {
		if checkFileName(bad) == nil {
			t.Errorf("checkFileName(%q) = nil, want an error", bad)
		}
	}
	for _, good := range []string{"model.safetensors", "data.bin", strings.Repeat("x", 250)} {
		if err := checkFileName(good); err != nil {
			t.Errorf("checkFileName(%q): %v", good, err)
		}
	}
}

func TestCheckRootWantsAnAbsoluteCleanPath(t *testing.T) {
	for _, bad := range []string{"", "/", "cache", "./cache", "/var/lib/../cache", "/var/lib/cache/", "/var//cache"} {
		if CheckRoot(bad) == nil {
			t.Errorf("CheckRoot(%q) = nil, want an error", bad)
		}
	}
	if err := CheckRoot("/var/lib/minibit/cache"); err != nil {
		t.Fatal(err)
	}
}

func TestUnderStaysUnderTheRoot(t *testing.T) {
	if _, err := under("/r", "..", "x"); err == nil {
		t.Error(`under("/r", "..", "x") left the root without an error`)
	}
	if p, err := under("/r", "content", "ab"); err != nil || p != "/r/content/ab" {
		t.Errorf("under: %q, %v", p, err)
	}
	if isInfoHash(strings.Repeat("A", 40)) || isInfoHash("../"+strings.Repeat("a", 37)) || !isInfoHash(strings.Repeat("0f", 20)) {
		t.Error("isInfoHash accepts only 40 lower-case hex digits")
	}
}
