package recordindex

import (
	"time"

	"github.com/riverqueue/river"
)

// Queue is the River queue index builds run in. CREATE INDEX CONCURRENTLY
// on one table waits for any other running on it, so one worker is all this
// queue needs.
const Queue = "indexes"

// BuildArgs is the job that builds one on-demand index (Manager.Build). Its
// kind and JSON keys are those jobs already queued carry: keep them.
type BuildArgs struct {
	WorkbookID string `json:"workbook_id"`
	TableID    string `json:"table_id"`
	ColumnID   string `json:"column_id"`
	IndexKind  string `json:"kind"`
}

// Kind identifies the job in River.
func (BuildArgs) Kind() string { return "build_record_index" }

// InsertOpts queues builds apart from short jobs and keeps one job per index.
func (BuildArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// DropArgs is the job that drops the indexes of deleted tables and removed
// columns (Manager.DropStale). It runs periodically.
type DropArgs struct{}

// Kind identifies the job in River.
func (DropArgs) Kind() string { return "drop_record_indexes" }

// InsertOpts keeps at most one drop job queued.
func (DropArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}
