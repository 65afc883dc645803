package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/idempotency"
	"github.com/scratchpad/scratchpad/internal/imports"
)

// PurgeExpiredArgs asks for expired sessions, dead API tokens, old sign-in
// failures, expired idempotency keys and abandoned uploads to be removed. It
// runs hourly.
type PurgeExpiredArgs struct{}

// Kind identifies the job in River.
func (PurgeExpiredArgs) Kind() string { return "purge_expired" }

// InsertOpts keeps at most one purge queued at a time.
func (PurgeExpiredArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// PurgeExpiredWorker runs PurgeExpiredArgs.
type PurgeExpiredWorker struct {
	river.WorkerDefaults[PurgeExpiredArgs]
	Accounts    *accounts.Service
	Idempotency *idempotency.Store
	// Imports, when set, has its abandoned uploads purged.
	Imports *imports.Service
}

// deadTokenRetention is how long revoked and expired tokens stay listed.
const deadTokenRetention = 30 * 24 * time.Hour

// abandonedUploadRetention is how long an upload that was never imported is
// kept after its last change: a day, time enough to come back to a preview
// left open, while a forgotten file does not hold its chunks for long.
const abandonedUploadRetention = 24 * time.Hour

// Work removes what has expired.
func (w *PurgeExpiredWorker) Work(ctx context.Context, job *river.Job[PurgeExpiredArgs]) error {
	if _, err := w.Accounts.PurgeExpired(ctx, deadTokenRetention); err != nil {
		return err
	}
	if w.Idempotency != nil {
		if _, err := w.Idempotency.Purge(ctx, time.Now()); err != nil {
			return err
		}
	}
	if w.Imports != nil {
		if _, err := w.Imports.PurgeAbandoned(ctx, abandonedUploadRetention); err != nil {
			return err
		}
	}
	return nil
}
