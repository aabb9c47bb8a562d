package flagalias

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// newFlags is a command with one renamed string flag and one renamed duration flag.
func newFlags() (*flag.FlagSet, *string, *time.Duration, *Set) {
	fs := flag.NewFlagSet("cmd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	strategy := fs.String("choke-strategy", "tit-for-tat", "how the unchoke slots are given")
	interval := fs.Duration("announce-interval", 30*time.Second, "how often peers announce")
	var renamed Set
	renamed.Add(fs, "choker", "choke-strategy")
	renamed.Add(fs, "interval", "announce-interval")
	return fs, strategy, interval, &renamed
}

func TestOldNameSetsTheNewFlag(t *testing.T) {
	for _, tc := range []struct {
		args         []string
		wantStrategy string
		wantInterval time.Duration
		wantWarned   []string
	}{
		{nil, "tit-for-tat", 30 * time.Second, nil},
		{[]string{"--choke-strategy", "rarity", "--announce-interval", "1s"}, "rarity", time.Second, nil},
		{[]string{"--choker", "rarity", "--interval=5s"}, "rarity", 5 * time.Second, []string{"--choker", "--interval"}},
		// Both names: the later one wins, as for any flag given twice.
		{[]string{"--choker", "rarity", "--choke-strategy", "tit-for-tat"}, "tit-for-tat", 30 * time.Second, []string{"--choker"}},
	} {
		fs, strategy, interval, renamed := newFlags()
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if *strategy != tc.wantStrategy || *interval != tc.wantInterval {
			t.Errorf("%v: strategy %q, interval %v; want %q, %v", tc.args, *strategy, *interval, tc.wantStrategy, tc.wantInterval)
		}
		var logs bytes.Buffer
		renamed.Warn(slog.New(slog.NewTextHandler(&logs, nil)))
		warned := strings.Count(logs.String(), "level=WARN")
		if warned != len(tc.wantWarned) {
			t.Errorf("%v: %d warnings, want %d:\n%s", tc.args, warned, len(tc.wantWarned), logs.String())
		}
		for _, name := range tc.wantWarned {
			if !strings.Contains(logs.String(), "flag="+name) {
				t.Errorf("%v: no warning names %s:\n%s", tc.args, name, logs.String())
			}
		}
	}
}

func TestBadValueThroughTheOldNameFails(t *testing.T) {
	fs, _, _, _ := newFlags()
	if err := fs.Parse([]string{"--interval", "soon"}); err == nil {
		t.Fatal("--interval soon parsed; want the duration flag's error")
	}
}

func TestHelpSaysDeprecatedAndNamesTheNewFlag(t *testing.T) {
	fs, _, _, _ := newFlags()
	var help bytes.Buffer
	fs.SetOutput(&help)
	fs.PrintDefaults()
	for _, want := range []string{
		"-choker value\n    \tdeprecated: use --choke-strategy (default tit-for-tat)",
		"-interval value\n    \tdeprecated: use --announce-interval (default 30s)",
		"-choke-strategy string\n    \thow the unchoke slots are given (default \"tit-for-tat\")",
	} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, help.String())
		}
	}
}

func TestAliasOfAnUndefinedFlagPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("an alias of an undefined flag did not panic")
		}
	}()
	var renamed Set
	renamed.Add(flag.NewFlagSet("cmd", flag.ContinueOnError), "old", "new")
}
