package workbooks

import (
	"context"
	"time"

	"github.com/scratchpad/scratchpad/internal/recordindex"
)

// This file is the record store's side of the on-demand indexes of big
// tables, which package recordindex registers, builds and drops: FindRecords
// asks for the ones its listing wants, and a bulk write leaves a table it
// made big ready for reads.

// BulkWriteRows is how many records a write must touch before it refreshes
// the planner's statistics, as PrepareTableForReads and a bulk accept do:
// see recordindex.BulkWriteRows.
const BulkWriteRows = recordindex.BulkWriteRows

// Indexes returns the manager of the store's on-demand indexes, for the
// jobs that build and drop them and for tests and tools.
func (s *Service) Indexes() *recordindex.Manager { return s.idx }

// SetIndexThreshold sets the table size from which FindRecords treats a
// table as big and asks for indexes (recordindex.DefaultThreshold unless
// set); tests use it to exercise the big-table path on small tables.
func (s *Service) SetIndexThreshold(n int64) { s.idx.SetThreshold(n) }

func (s *Service) indexThreshold() int64 { return s.idx.Threshold() }

// PrepareTableForReads leaves a table that a bulk write (an import, a pull)
// has just filled ready for its first sorted and filtered pages. When the
// table's exact size reaches the index threshold, it registers the table's
// ready indexes (recordindex.Ready) and waits, at most wait, until none of
// its indexes is still pending (built or failed: River retries a failure).
// The builds are the index jobs' own (recordindex.Manager.Build), so a
// process dying meanwhile leaves them to River's rescue and the caller's job
// to its lease, and nothing here holds a lock an edit would wait for. It
// ends by refreshing the statistics (recordindex.Manager.RefreshStatistics).
// A wait that runs out is no error: the builds go on, and the pages are slow
// until they end. With no wait, the builds are only asked for.
func (s *Service) PrepareTableForReads(ctx context.Context, t Table, wait time.Duration) error {
	size, err := s.tableSize(ctx, t)
	if err != nil {
		return err
	}
	if size >= s.indexThreshold() {
		st := t.sqlTable()
		if err := s.idx.Request(ctx, st, recordindex.Ready(st)); err != nil {
			return err
		}
		if wait > 0 {
			if err := s.idx.Wait(ctx, st, wait); err != nil {
				return err
			}
		}
	}
	return s.idx.RefreshStatistics(ctx, t.WorkbookID, t.ID)
}
