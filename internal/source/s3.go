package source

import (
	"context"
	"errors"
	"log/slog"
)

// fetchS3 is not built yet.
func fetchS3(context.Context, *slog.Logger, Spec, string) (Result, error) {
	return Result{}, errors.New("source: s3: not implemented")
}
