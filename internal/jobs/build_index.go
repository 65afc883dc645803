package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/recordindex"
)

// BuildRecordIndexWorker runs recordindex.BuildArgs: it builds one
// on-demand index of a big table with CREATE INDEX CONCURRENTLY.
type BuildRecordIndexWorker struct {
	river.WorkerDefaults[recordindex.BuildArgs]
	Indexes *recordindex.Manager
}

// Timeout is off: a trigram index over a long text column of a million
// records takes minutes on a small machine. The job is leased (lease.go),
// so it is rescued when its process dies, and a build that died half-way
// is dropped and redone.
func (w *BuildRecordIndexWorker) Timeout(*river.Job[recordindex.BuildArgs]) time.Duration {
	return -1
}

// Work builds the index.
func (w *BuildRecordIndexWorker) Work(ctx context.Context, job *river.Job[recordindex.BuildArgs]) error {
	return w.Indexes.Build(ctx, job.Args)
}

// DropRecordIndexesWorker runs recordindex.DropArgs: it drops the on-demand
// indexes of deleted tables and removed columns.
type DropRecordIndexesWorker struct {
	river.WorkerDefaults[recordindex.DropArgs]
	Indexes *recordindex.Manager
}

// Timeout is off: DROP INDEX CONCURRENTLY waits for long transactions. The
// job is leased (lease.go), and dropping is idempotent.
func (w *DropRecordIndexesWorker) Timeout(*river.Job[recordindex.DropArgs]) time.Duration {
	return -1
}

// Work drops the stale indexes.
func (w *DropRecordIndexesWorker) Work(ctx context.Context, job *river.Job[recordindex.DropArgs]) error {
	_, err := w.Indexes.DropStale(ctx)
	return err
}

// dropRecordIndexesInterval is how often stale indexes are looked for.
const dropRecordIndexesInterval = 10 * time.Minute
