package nodecache

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
)

// maxLabel is the length limit of a DNS label (RFC 1123), which Kubernetes namespaces and
// Swarm names are.
const maxLabel = 63

// Name is the stable name of one Swarm's copy: <root>/by-name/<Namespace>/<Swarm>.
type Name struct {
	Namespace, Swarm string
}

// String is the name as the flag gives it: "namespace/swarm".
func (n Name) String() string { return n.Namespace + "/" + n.Swarm }

// ParseName parses "namespace/swarm", both DNS labels (RFC 1123: at most 63 lower-case letters,
// digits and '-', starting and ending with a letter or digit). Anything else (an empty part,
// "..", a slash more, an absolute path, upper case, a label too long) is refused.
func ParseName(s string) (Name, error) {
	ns, swarm, ok := strings.Cut(s, "/")
	if !ok {
		return Name{}, fmt.Errorf("node cache: name %q is not namespace/swarm", s)
	}
	for _, part := range []struct{ what, v string }{{"namespace", ns}, {"swarm", swarm}} {
		if err := checkLabel(part.v); err != nil {
			return Name{}, fmt.Errorf("node cache: name %q: the %s %w", s, part.what, err)
		}
	}
	return Name{Namespace: ns, Swarm: swarm}, nil
}

// checkLabel refuses anything but a DNS label.
func checkLabel(s string) error {
	if s == "" || len(s) > maxLabel {
		return fmt.Errorf("must be 1 to %d characters, is %d", maxLabel, len(s))
	}
	for i, c := range []byte(s) {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' || i == 0 || i == len(s)-1) {
			return fmt.Errorf("%q is not a DNS label (lower-case letters, digits and '-', not at either end)", s)
		}
	}
	return nil
}

// maxFileName leaves room for the ".part" suffix within the usual 255-byte limit of a name.
const maxFileName = 255 - len(".part")

// checkFileName refuses a torrent's file name that could leave its content directory or take
// one of the cache's own names: empty, a dot first (".", "..", ".verified"), a slash, a
// backslash or NUL, or too long.
func checkFileName(name string) error {
	switch {
	case name == "" || len(name) > maxFileName:
		return fmt.Errorf("node cache: file name must be 1 to %d bytes, is %d", maxFileName, len(name))
	case name[0] == '.':
		return fmt.Errorf("node cache: file name %q starts with a dot", name)
	case strings.ContainsAny(name, "/\\\x00"):
		return fmt.Errorf("node cache: file name %q contains a path separator or NUL", name)
	}
	return nil
}

// isInfoHash reports whether s is a v1 info-hash as the cache writes it: 40 lower-case hex
// digits.
func isInfoHash(s string) bool {
	if len(s) != 40 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// CheckRoot refuses a cache root that is not an absolute, clean path ("/var/lib/minibit/cache",
// not "cache", "/var/lib/../cache" or "/var/lib/cache/").
func CheckRoot(root string) error {
	if root == "" || !filepath.IsAbs(root) || filepath.Clean(root) != root || root == "/" {
		return fmt.Errorf("node cache: root %q must be an absolute, clean path other than /", root)
	}
	return nil
}

// under joins parts (each already checked) under root and makes sure the result stays there.
func under(root string, parts ...string) (string, error) {
	p := filepath.Join(append([]string{root}, parts...)...)
	if !strings.HasPrefix(p, root+string(filepath.Separator)) {
		return "", fmt.Errorf("node cache: %q leaves the cache root %s", strings.Join(parts, "/"), root)
	}
	return p, nil
}
