// Command flagdoc keeps the README's flag tables true: it rewrites every block between
//
//	<!-- BEGIN flags: BINARY [SUBCOMMAND] -->
//	<!-- END flags -->
//
// with a table of that command's flags and defaults, read from `bin/BINARY [SUBCOMMAND] -h`.
// `make docs` runs it; CI fails when the README differs from what it writes.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

var (
	beginRe   = regexp.MustCompile(`^<!-- BEGIN flags: ([a-z-]+)((?: [a-z-]+)?) -->$`)
	flagRe    = regexp.MustCompile(`^  -([a-z0-9-]+)(?: (.*))?$`)
	defaultRe = regexp.MustCompile(`^(.*?)(?: \(default (.*)\))?$`)
)

const endMarker = "<!-- END flags -->"

func main() {
	bin := flag.String("bin", "bin", "directory of the built binaries")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: flagdoc [--bin DIR] README.md")
		os.Exit(2)
	}
	if err := rewrite(flag.Arg(0), *bin); err != nil {
		fmt.Fprintln(os.Stderr, "flagdoc:", err)
		os.Exit(1)
	}
}

func rewrite(path, bin string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	skipping := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		switch m := beginRe.FindStringSubmatch(line); {
		case m != nil:
			table, err := flagTable(filepath.Join(bin, m[1]), strings.TrimSpace(m[2]))
			if err != nil {
				return err
			}
			fmt.Fprintf(&out, "%s\n%s", line, table)
			skipping = true
		case line == endMarker:
			skipping = false
			out.WriteString(line + "\n")
		case !skipping:
			out.WriteString(line + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if skipping {
		return fmt.Errorf("%s: a flags block has no %q", path, endMarker)
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// defaultCell shows a flag's default; Go's usage omits zero defaults: false for a boolean flag
// (no type name), empty otherwise.
func defaultCell(typeName, def string) string {
	switch {
	case def != "":
		return "`" + strings.Trim(def, `"`) + "`"
	case typeName == "":
		return "`false`"
	default:
		return "—"
	}
}

// flagTable runs `binary [sub] -h` and turns Go's flag usage into a markdown table.
func flagTable(binary, sub string) (string, error) {
	args := []string{"-h"}
	if sub != "" {
		args = []string{sub, "-h"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	usage, _ := exec.CommandContext(ctx, binary, args...).CombinedOutput() // -h exits non-zero
	var b strings.Builder
	b.WriteString("\n| flag | default | meaning |\n|---|---|---|\n")
	rows := 0
	lines := strings.Split(string(usage), "\n")
	for i := 0; i < len(lines); i++ {
		m := flagRe.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		var help []string
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "    \t") {
			i++
			help = append(help, strings.TrimSpace(lines[i]))
		}
		d := defaultRe.FindStringSubmatch(strings.Join(help, " "))
		fmt.Fprintf(&b, "| `--%s` | %s | %s |\n", m[1], defaultCell(m[2], d[2]), strings.ReplaceAll(d[1], "|", `\|`))
		rows++
	}
	if rows == 0 {
		return "", fmt.Errorf("%s %s -h listed no flags: %s", binary, sub, usage)
	}
	return b.String() + "\n", nil
}
