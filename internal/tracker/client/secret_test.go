package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadSecretFile(t *testing.T) {
	const want = "s3cret-token_0123456789"
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	token, err := ReadSecretFile(write("ok", "  "+want+"\n"))
	if err != nil || token != want {
		t.Fatalf("ReadSecretFile = %q, %v; want the token trimmed", token, err)
	}
	for name, content := range map[string]string{
		"empty": "", "blank": " \n\t", "inner space": "two words", "control": "tok\x00en",
		"non-ascii": "tökén", "too large": strings.Repeat("a", MaxSecretBytes+1),
	} {
		if token, err := ReadSecretFile(write(name, content)); err == nil {
			t.Errorf("%s: accepted %q", name, token)
		}
	}
	if _, err := ReadSecretFile(filepath.Join(dir, "absent")); err == nil {
		t.Error("a missing file was accepted")
	}
}
