package source

import (
	"context"
	"errors"
	"log/slog"
)

// fetchOCI is not built yet.
func fetchOCI(context.Context, *slog.Logger, Spec, string) (Result, error) {
	return Result{}, errors.New("source: oci: not implemented")
}

// fetchS3 is not built yet.
func fetchS3(context.Context, *slog.Logger, Spec, string) (Result, error) {
	return Result{}, errors.New("source: s3: not implemented")
}
