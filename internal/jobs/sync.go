package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/syncs"
)

// PullWorker runs syncs.PullArgs: it pulls the tables of a sync from their
// data sources.
type PullWorker struct {
	river.WorkerDefaults[syncs.PullArgs]
	Syncs *syncs.Service
}

// Timeout is off: a pull takes as long as its tables, committing page by
// page. The job is leased (lease.go), so it is rescued and resumed when
// its process dies.
func (w *PullWorker) Timeout(*river.Job[syncs.PullArgs]) time.Duration { return -1 }

// Work pulls what is left to pull.
func (w *PullWorker) Work(ctx context.Context, job *river.Job[syncs.PullArgs]) error {
	return w.Syncs.RunPull(ctx, job.Args, job.Attempt >= job.MaxAttempts)
}

// PublishWorker runs syncs.PublishArgs: it publishes the changes of the
// tables of a sync to their data sources.
type PublishWorker struct {
	river.WorkerDefaults[syncs.PublishArgs]
	Syncs *syncs.Service
}

// Timeout is off, as for pulls: a publish commits batch by batch and is
// leased.
func (w *PublishWorker) Timeout(*river.Job[syncs.PublishArgs]) time.Duration { return -1 }

// Work publishes what is left to publish.
func (w *PublishWorker) Work(ctx context.Context, job *river.Job[syncs.PublishArgs]) error {
	return w.Syncs.RunPublish(ctx, job.Args, job.Attempt >= job.MaxAttempts)
}
