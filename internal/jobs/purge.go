package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/idempotency"
)

// PurgeExpiredArgs asks for expired sessions, dead API tokens, old sign-in
// failures and expired idempotency keys to be removed. It runs hourly.
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
}

// deadTokenRetention is how long revoked and expired tokens stay listed.
const deadTokenRetention = 30 * 24 * time.Hour

// Work removes what has expired.
func (w *PurgeExpiredWorker) Work(ctx context.Context, job *river.Job[PurgeExpiredArgs]) error {
	if _, err := w.Accounts.PurgeExpired(ctx, deadTokenRetention); err != nil {
		return err
	}
	if w.Idempotency == nil {
		return nil
	}
	_, err := w.Idempotency.Purge(ctx, time.Now())
	return err
}
