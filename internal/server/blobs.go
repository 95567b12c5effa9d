package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// Blob content and the upload-ticket key live in the data dir.
const (
	blobDir        = "blobs"
	blobSecretFile = "blob-ticket.key"
)

// openBlobs builds the blob service over its content store and sweeps
// what a crash left behind, before anything can upload.
func openBlobs(ctx context.Context, cfg config.Config, db *sqlite.DB, authSvc *auth.Service, log *slog.Logger, now func() time.Time) (*blob.Service, error) {
	secret, err := blob.LoadSecret(filepath.Join(cfg.DataDir, blobSecretFile))
	if err != nil {
		return nil, fmt.Errorf("blob ticket key: %w", err)
	}
	var content blob.Content
	if cfg.BlobStore == "" {
		if content, err = blob.NewFS(filepath.Join(cfg.DataDir, blobDir)); err != nil {
			return nil, err
		}
	} else {
		c, err := blob.ParseS3URL(cfg.BlobStore, cfg.S3AccessKey, cfg.S3SecretKey)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Source("blob-store"), err)
		}
		if content, err = blob.NewS3(ctx, c); err != nil {
			return nil, err
		}
	}
	svc := blob.NewService(db, content, appLimits{authSvc}, blob.Config{Secret: secret}, log, now)
	if err := svc.Sweep(ctx); err != nil {
		return nil, err
	}
	return svc, nil
}

// appLimits reads an app's blob limits from the auth service, which owns
// apps.
type appLimits struct{ auth *auth.Service }

func (a appLimits) BlobLimits(ctx context.Context, appID int64) (blob.Limits, error) {
	max, types, err := a.auth.BlobLimits(ctx, appID)
	return blob.Limits{MaxSize: max, ContentTypes: types}, err
}
