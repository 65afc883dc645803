package syncs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/joblease"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// run is one attempt of a sync's job: the sync as it stands and the
// connectors it opened.
type run struct {
	s     *Service
	sy    Sync
	conns map[string]connectors.Connector
	// progress orders the commits of the run's progress: two commits may
	// do their work at once, but each records its progress, and commits,
	// after the one before it has.
	progress sync.Mutex
}

// tableFailure ends one table of a sync on a failure a retry cannot fix (the
// table or its data source is gone, the source refuses the credentials):
// the other tables go on, and the message says what to do.
type tableFailure struct {
	msg   string
	cause error
}

func (e *tableFailure) Error() string { return e.msg + ": " + fmt.Sprint(e.cause) }
func (e *tableFailure) Unwrap() error { return e.cause }

// fail wraps err as a tableFailure when it is one, and returns it as it is
// otherwise (a retry may fix it).
func fail(err error) error {
	if err == nil {
		return nil
	}
	var tf *tableFailure
	if errors.As(err, &tf) {
		return err
	}
	if ce, ok := connectors.AsError(err); ok && !connectors.Retryable(err) {
		return &tableFailure{msg: ce.Message, cause: err}
	}
	switch apperr.KindOf(err) {
	case apperr.NotFound, apperr.Invalid:
		return &tableFailure{msg: apperr.MessageOf(err), cause: err}
	}
	return err
}

// connector returns the attempt's connector to a data source, opened on
// first use, paced and retried as the connector's limits say.
func (r *run) connector(ctx context.Context, dataSourceID string) (connectors.Connector, error) {
	if c, ok := r.conns[dataSourceID]; ok {
		return c, nil
	}
	c, _, err := r.s.sources.Open(ctx, r.sy.OwnerID, dataSourceID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, &tableFailure{msg: "The table's data source was deleted.", cause: err}
	}
	if err != nil {
		return nil, fail(err)
	}
	c = connectors.Limited(c, r.s.sleep)
	r.conns[dataSourceID] = c
	return c, nil
}

func (r *run) close() {
	for _, c := range r.conns {
		_ = c.Close()
	}
}

// table loads the sync's table st, as its owner. Errors: tableFailure when
// it is gone or no longer linked to a data source.
func (r *run) table(ctx context.Context, st SyncTable) (workbooks.Table, error) {
	t, err := r.s.store.FindTable(ctx, r.sy.OwnerID, r.sy.WorkbookID, st.TableID)
	if apperr.Is(err, apperr.NotFound) {
		return workbooks.Table{}, &tableFailure{msg: "The table was deleted.", cause: err}
	}
	if err != nil {
		return workbooks.Table{}, err
	}
	if !t.Sourced() {
		return workbooks.Table{}, &tableFailure{msg: "The table is no longer linked to a data source.", cause: errors.New("not sourced")}
	}
	return t, nil
}

// step is the work on one table of a sync.
type step func(ctx context.Context, r *run, st *SyncTable) error

// execute runs the job of sync syncID: each table not finished yet, in
// order. lastAttempt says whether River will retry a failure: the sync is
// marked failed only when it will not. A cancelled job records the
// cancellation and returns its cause.
func (s *Service) execute(ctx context.Context, syncID string, lastAttempt bool, work step) error {
	loadCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	row, err := s.q.StartSync(loadCtx, syncID)
	cancel()
	if db.IsNoRows(err) {
		return nil // finished (or cancelled, or deleted with its workbook) already
	}
	if err != nil {
		return fmt.Errorf("syncs: start sync: %w", err)
	}
	sy, err := s.withTables(ctx, syncFromRow(row))
	if err != nil {
		return err
	}
	r := &run{s: s, sy: sy, conns: map[string]connectors.Connector{}}
	defer r.close()
	failed := 0
	for i := range r.sy.Tables {
		st := &r.sy.Tables[i]
		switch st.Phase {
		case "done", "cancelled":
			continue
		case "failed":
			failed++
			continue
		}
		err := work(ctx, r, st)
		var tf *tableFailure
		switch {
		case err == nil:
		case errors.Is(context.Cause(ctx), rivertype.ErrJobCancelledRemotely):
			if ferr := s.end(context.WithoutCancel(ctx), syncID, StatusCancelled, ""); ferr != nil {
				return errors.Join(err, ferr)
			}
			return err
		case errors.Is(err, joblease.ErrLost):
			return err
		case errors.As(err, &tf):
			failed++
			if ferr := s.failTable(context.WithoutCancel(ctx), r, st, tf.msg); ferr != nil {
				return errors.Join(err, ferr)
			}
		case lastAttempt:
			s.logger.ErrorContext(ctx, "syncs: sync failed", "sync", syncID, "err", err)
			msg := "It stopped on an error on our side; what it finished is kept."
			if ce, ok := connectors.AsError(err); ok {
				msg = ce.Message
			}
			return errors.Join(err, s.end(context.WithoutCancel(ctx), syncID, StatusFailed, msg))
		default:
			return err
		}
	}
	status, msg := StatusDone, ""
	if failed == len(r.sy.Tables) {
		status, msg = StatusFailed, r.sy.Tables[0].Error
	}
	return s.end(context.WithoutCancel(ctx), syncID, status, msg)
}

// failTable records that table st failed for good, and frees it.
func (s *Service) failTable(ctx context.Context, r *run, st *SyncTable, msg string) error {
	st.Phase, st.Error = "failed", msg
	return s.commit(ctx, r, st, tableDelta{phase: "failed", error: msg}, func(tx pgx.Tx, _ *tableDelta) error {
		return s.store.ReleaseTableTx(ctx, tx, workbooks.Table{WorkbookID: r.sy.WorkbookID, ID: st.TableID}, r.sy.ID)
	})
}

// tableDelta is what one step adds to a sync table's progress.
type tableDelta struct {
	phase                                        string
	done                                         int64
	total                                        *int64
	created, updated, deleted, conflicts, failed int
	error                                        string
}

// commit runs fn and records delta d on st (fn may add to it) in one
// transaction, which also tells the sync's watchers and holds the job's
// lease: a step never commits after its job was handed to another attempt.
// Commits of one run may overlap in fn; from recording the progress on,
// one at a time.
func (s *Service) commit(ctx context.Context, r *run, st *SyncTable, d tableDelta, fn func(tx pgx.Tx, d *tableDelta) error) error {
	var next SyncTable
	locked := false
	defer func() {
		if locked {
			r.progress.Unlock()
		}
	}()
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		d := d
		if fn != nil {
			if err := fn(tx, &d); err != nil {
				return err
			}
		}
		// Held until the transaction has committed and st moved on.
		r.progress.Lock()
		locked = true
		next = d.apply(*st)
		var errMsg *string
		if d.error != "" {
			errMsg = &d.error
		}
		err := db.New(tx).UpdateSyncTable(ctx, db.UpdateSyncTableParams{
			SyncID: r.sy.ID, TableID: st.TableID, Phase: d.phase, DoneAdded: d.done, Total: d.total,
			CreatedAdded: int32(d.created), UpdatedAdded: int32(d.updated), DeletedAdded: int32(d.deleted),
			ConflictsAdded: int32(d.conflicts), FailedAdded: int32(d.failed), Error: errMsg,
		})
		if err != nil {
			return fmt.Errorf("syncs: record progress: %w", err)
		}
		sy := r.sy
		sy.Tables = append([]SyncTable(nil), r.sy.Tables...)
		for i := range sy.Tables {
			if sy.Tables[i].TableID == st.TableID {
				sy.Tables[i] = next
			}
		}
		if err := notifyProgress(ctx, tx, sy); err != nil {
			return err
		}
		return joblease.Hold(ctx, tx)
	})
	if err != nil {
		return err
	}
	*st = next
	return nil
}

// apply returns st with d added.
func (d tableDelta) apply(st SyncTable) SyncTable {
	st.Phase = d.phase
	st.Done += d.done
	if d.total != nil {
		st.Total = *d.total
	}
	st.Created += d.created
	st.Updated += d.updated
	st.Deleted += d.deleted
	st.Conflicts += d.conflicts
	st.Failed += d.failed
	if d.error != "" {
		st.Error = d.error
	}
	return st
}
