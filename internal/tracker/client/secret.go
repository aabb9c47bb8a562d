package client

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// This file is the publish secret's file, as a seeder (and the tracker, with the same rules)
// reads it: the token that a torrent upload carries as "Authorization: Bearer <token>".

// MaxSecretBytes bounds a publish secret file.
const MaxSecretBytes = 4 << 10

// ReadSecretFile reads a publish token from path: its content without surrounding whitespace,
// 1 to MaxSecretBytes of printable ASCII without spaces (it travels in an HTTP header).
func ReadSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("publish secret: %w", err)
	}
	defer func() { _ = f.Close() }()
	raw, err := io.ReadAll(io.LimitReader(f, MaxSecretBytes+1))
	if err != nil {
		return "", fmt.Errorf("publish secret %s: %w", path, err)
	}
	if len(raw) > MaxSecretBytes {
		return "", fmt.Errorf("publish secret %s: larger than %d bytes", path, MaxSecretBytes)
	}
	token := strings.TrimSpace(string(raw))
	if err := validToken(token); err != nil {
		return "", fmt.Errorf("publish secret %s: %w", path, err)
	}
	return token, nil
}

// validToken checks that token is not empty and holds only printable ASCII without spaces.
func validToken(token string) error {
	if token == "" {
		return errors.New("the token is empty")
	}
	for i := range len(token) {
		if c := token[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("the token holds byte %#x at %d: only printable ASCII without spaces", c, i)
		}
	}
	return nil
}
