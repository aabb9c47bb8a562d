package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// runChecksum prints the SHA-256 of a file ("sha256 HEX PATH"), checks it against --sha256 when
// given, and with --hold keeps running until stopped: a consumer's container (or init
// container) can check a node cache copy it mounted read-only with the image it already has.
func runChecksum(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("checksum", flag.ContinueOnError)
	file := fs.String("file", "", "the file to hash (required)")
	want := fs.String("sha256", "", "the SHA-256 the file must have (64 hex digits); a mismatch exits non-zero")
	hold := fs.Bool("hold", false, "after printing, keep running until stopped (a Deployment's pod that shows the checksum in its log)")
	if err := fs.Parse(args); err != nil {
		return usagef("checksum: %v", err)
	}
	if *file == "" {
		return usagef("checksum: --file is required")
	}
	sum, err := metainfo.FileSHA256(*file)
	if err != nil {
		return fmt.Errorf("checksum: %w", err)
	}
	fmt.Printf("sha256 %s %s\n", sum, *file)
	if *want != "" && !strings.EqualFold(*want, sum) {
		return fmt.Errorf("checksum: %s has SHA-256 %s, want %s", *file, sum, strings.ToLower(*want))
	}
	if *hold {
		<-ctx.Done()
	}
	return nil
}
