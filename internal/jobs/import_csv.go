package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/imports"
)

// ImportCSVWorker runs imports.ImportCSVArgs: it streams an uploaded file
// into its table. The args live in the imports package, which enqueues them
// together with the upload's change of state.
type ImportCSVWorker struct {
	river.WorkerDefaults[imports.ImportCSVArgs]
	Imports *imports.Service
}

// Timeout is off: a large import takes as long as it takes, checkpointing
// as it goes, and stops between batches when cancelled. The job is leased
// (lease.go), so it is rescued and resumed when its process dies.
func (w *ImportCSVWorker) Timeout(*river.Job[imports.ImportCSVArgs]) time.Duration { return -1 }

// Work imports the rows past the upload's checkpoint.
func (w *ImportCSVWorker) Work(ctx context.Context, job *river.Job[imports.ImportCSVArgs]) error {
	return w.Imports.RunImport(ctx, job.Args, job.Attempt >= job.MaxAttempts)
}
