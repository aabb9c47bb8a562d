package source

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// maxAuthFileBytes bounds a .dockerconfigjson.
const maxAuthFileBytes = 1 << 20

// dockerConfig is the part of a .dockerconfigjson (a kubernetes.io/dockerconfigjson Secret) a
// pull needs.
type dockerConfig struct {
	Auths map[string]authn.AuthConfig `json:"auths"`
}

// registryAuth is the pull secret's credentials for registry (as name.Registry spells it:
// "index.docker.io" for Docker Hub); anonymous without a file or without an entry for it.
func registryAuth(file, registry string) (authn.Authenticator, error) {
	if file == "" {
		return authn.Anonymous, nil
	}
	data, err := readSmallFile(file, maxAuthFileBytes)
	if err != nil {
		return nil, fmt.Errorf("source: oci: pull secret: %w", err)
	}
	var cfg dockerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		// the error may quote the file; say only where it failed
		return nil, fmt.Errorf("source: oci: pull secret %s is not a .dockerconfigjson", file)
	}
	for key, ac := range cfg.Auths {
		if registryKey(key) == registry {
			return authn.FromConfig(ac), nil
		}
	}
	return authn.Anonymous, nil
}

// registryKey is the registry a .dockerconfigjson key names: no scheme, no path, Docker Hub's
// aliases as name.Registry spells them.
func registryKey(key string) string {
	key = strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	key, _, _ = strings.Cut(key, "/")
	key = strings.ToLower(key)
	switch key {
	case "docker.io", "registry-1.docker.io", "index.docker.io":
		return name.DefaultRegistry
	}
	return key
}
