package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLogValueReadsSlogText(t *testing.T) {
	line := `time=2026-12-01T12:38:49.693Z level=INFO msg="Tracker listening" addr=127.0.0.1:35719 interval=1s note="a b=c"`
	for key, want := range map[string]string{
		"msg": "Tracker listening", "addr": "127.0.0.1:35719", "interval": "1s", "note": "a b=c",
	} {
		if got, ok := logValue(line, key); !ok || got != want {
			t.Errorf("logValue(%s) = %q, %v; want %q", key, got, ok, want)
		}
	}
	for _, key := range []string{"dr", "missing"} { // "addr" contains "dr="
		if got, ok := logValue(`level=INFO addr=x`, key); ok {
			t.Errorf("logValue(%s) = %q, want none", key, got)
		}
	}
	if _, ok := logValue(`msg="unterminated`, "msg"); ok {
		t.Error("an unterminated quoted value was accepted")
	}
}

func TestFindLogValueWaitsForTheMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tracker.log")
	if _, ok := findListenAddr(path, "Tracker listening"); ok {
		t.Fatal("a missing log gave an address")
	}
	log := `level=INFO msg="Something else" addr=127.0.0.1:1` + "\n" +
		strings.Repeat("x", 70<<10) + "\n" + // a line longer than the scanner's buffer
		`level=INFO msg="Tracker listening" addr=127.0.0.1:40001` + "\n"
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := findListenAddr(path, "Tracker listening"); ok {
		t.Errorf("found %q past a line too long to scan; the scan should stop there", got)
	}
	log = `level=INFO msg="Something else" addr=127.0.0.1:1` + "\n" + `level=INFO msg="Tracker listening" addr=127.0.0.1:40001` + "\n"
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := findListenAddr(path, "Tracker listening"); !ok || got != "127.0.0.1:40001" {
		t.Errorf("findListenAddr = %q, %v; want 127.0.0.1:40001", got, ok)
	}
}
