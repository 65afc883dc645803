package syncs

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/connectors"

	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// RunPull is the body of the pull job: it pulls each table of the sync
// that has not finished, resuming a table from the last page it committed.
// lastAttempt says whether River will retry a failure.
func (s *Service) RunPull(ctx context.Context, args PullArgs, lastAttempt bool) error {
	return s.execute(ctx, args.SyncID, lastAttempt, s.pullTable)
}

// readyWait is how long a pull waits, after a table's last page, for the
// indexes of a table it made big (workbooks.PrepareTableForReads): not at
// all. A pull is measured against COPY of the same rows (≤ 3×), and
// building a 100,000-record table's indexes doubles it; the pull asks for
// them and ends, and they are ready seconds later, while an import, whose
// person is waiting to open the table, waits for them.
const readyWait time.Duration = 0

// pullTable pulls one table page by page. The first pull of a table adds its
// records through the record store's bulk path; a re-pull merges each page
// with the local edits and ends with a sweep of the records the source no
// longer has. Each page commits with the pull's cursor, so a crashed pull
// resumes after the last page it committed, and no page is added twice.
func (s *Service) pullTable(ctx context.Context, r *run, st *SyncTable) error {
	t, err := r.table(ctx, *st)
	if err != nil {
		return err
	}
	conn, err := r.connector(ctx, t.DataSourceID)
	if err != nil {
		return err
	}
	spec, err := conn.TableSpec(ctx, t.RemoteTableID)
	if err != nil {
		return fail(err)
	}
	enc := workbooks.NewPulledEncoder(t)
	first := t.LastPulledAt == nil
	ids := workbooks.NewRecordIDs()
	cursor := t.PullCursor
	limit := conn.Limits().PageSize
	var total *int64
	if st.Total < 0 && spec.EstimatedRecords >= 0 {
		total = &spec.EstimatedRecords
	}
	// The next page is read and encoded while this one commits: the source,
	// the encoding and the store's writes overlap.
	fetchCtx, stop := context.WithCancel(ctx)
	pages := prefetch(fetchCtx, conn, enc, t.RemoteTableID, cursor, limit)
	if !first {
		// A re-pull compares each page with the table while the page
		// before it commits.
		pages = s.compareAhead(fetchCtx, t, pages)
	}
	defer func() {
		// The reader is done with the connector before it may be closed.
		stop()
		for range pages {
		}
	}()
	pulled := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, ok := <-pages
		if !ok {
			return ctx.Err()
		}
		if p.err != nil {
			return fail(p.err)
		}
		rows := p.rows
		err = s.commit(ctx, r, st, tableDelta{phase: "pulling", done: int64(len(rows)), total: total}, func(tx pgx.Tx, d *tableDelta) error {
			if first {
				n, err := s.store.AddPulledTx(ctx, tx, t, ids, rows)
				d.created = int(n)
				if err != nil {
					return err
				}
			} else {
				c, err := s.store.MergePulledTx(ctx, tx, t, r.sy.ID, enc.SourceKeys(), rows, p.stale)
				if err != nil {
					return err
				}
				d.created, d.updated, d.conflicts = c.Inserted, c.Changed, c.Conflicted
			}
			return s.store.SetPullCursorTx(ctx, tx, t, p.next)
		})
		if err != nil {
			return fail(err)
		}
		pulled += len(rows)
		total = nil
		if p.next == "" {
			break
		}
	}
	if !first {
		var removed, flagged int
		err := s.commit(ctx, r, st, tableDelta{phase: "sweeping"}, func(tx pgx.Tx, d *tableDelta) error {
			var err error
			removed, flagged, err = s.store.SweepPulledTx(ctx, tx, t, r.sy.ID)
			d.deleted, d.conflicts = removed, flagged
			return err
		})
		if err != nil {
			return fail(err)
		}
	}
	err = s.commit(ctx, r, st, tableDelta{phase: "done"}, func(tx pgx.Tx, _ *tableDelta) error {
		if err := s.store.FinishPullTx(ctx, tx, t, spec.ReadOnly); err != nil {
			return err
		}
		return s.store.ReleaseTableTx(ctx, tx, t, r.sy.ID)
	})
	if err == nil && pulled >= workbooks.BulkWriteRows {
		// Best effort, after the table is released (edits never wait for
		// index builds): a table the pull made big has its indexes asked
		// for, and every table fresh statistics, before the job ends; a
		// failure only leaves the indexes to the first pages that ask.
		if serr := s.store.PrepareTableForReads(ctx, t, readyWait); serr != nil {
			s.logger.WarnContext(ctx, "syncs: prepare the table for reads", "table", t.ID, "err", serr)
		}
	}
	return err
}

// pulledPage is one page of a pull, encoded: its rows, the cursor after it
// ("" when it is the last), or why it could not be read.
type pulledPage struct {
	rows []workbooks.NewRecordRow
	// stale are the positions of the rows a merge may change (a re-pull's;
	// see workbooks.StalePulled).
	stale []int32
	next  string
	err   error
}

// compareAhead passes on the pages of in with the positions of their rows
// that a merge may change, one page ahead of the caller, until in closes,
// an error or ctx's end. The channel closes once in has closed too.
func (s *Service) compareAhead(ctx context.Context, t workbooks.Table, in <-chan pulledPage) <-chan pulledPage {
	out := make(chan pulledPage, 1)
	go func() {
		defer close(out)
		defer func() {
			for range in {
			}
		}()
		for p := range in {
			if p.err == nil && len(p.rows) > 0 {
				p.stale, p.err = s.store.StalePulled(ctx, t, p.rows)
			}
			select {
			case out <- p:
			case <-ctx.Done():
				return
			}
			if p.err != nil {
				return
			}
		}
	}()
	return out
}

// prefetch reads and encodes the pages of a pull from cursor on, one ahead
// of the caller, until the last page, an error or ctx's end. The channel
// closes after the last page or an error.
func prefetch(ctx context.Context, conn connectors.Connector, enc *workbooks.PulledEncoder, remoteTableID, cursor string, limit int) <-chan pulledPage {
	out := make(chan pulledPage, 1)
	go func() {
		defer close(out)
		for {
			page, err := conn.Pull(ctx, remoteTableID, cursor, limit)
			p := pulledPage{err: err}
			if err == nil {
				p.rows = make([]workbooks.NewRecordRow, len(page.Records))
				for i, rec := range page.Records {
					p.rows[i] = enc.Encode(rec.ID, rec.Fields)
				}
				p.next = page.Next
			}
			select {
			case out <- p:
			case <-ctx.Done():
				return
			}
			if err != nil || page.Next == "" {
				return
			}
			cursor = page.Next
		}
	}()
	return out
}
