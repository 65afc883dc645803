package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/csvimport"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/joblease"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// maxProblems is how many problems an upload keeps; the counts go on.
const maxProblems = 100

// errPermanent marks failures a retry cannot fix.
var errPermanent = errors.New("permanent")

// RunImport is the body of the import job: it imports the rows of the upload
// that are past its checkpoint and records the end. lastAttempt says whether
// River will retry a failure; the upload is marked failed only when it will
// not. A cancelled job records the cancellation and returns its cause.
func (s *Service) RunImport(ctx context.Context, args ImportCSVArgs, lastAttempt bool) error {
	// Read without the job's cancellation (but with a deadline of its own):
	// a cancel landing as the attempt starts must still be recorded on the
	// upload (below), not end the job before it has looked.
	loadCtx, cancelLoad := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	row, err := s.q.GetUploadByID(loadCtx, args.UploadID)
	cancelLoad()
	if db.IsNoRows(err) {
		return nil // deleted with its workbook: nothing to do
	}
	if err != nil {
		return fmt.Errorf("imports: load upload: %w", err)
	}
	u := uploadFromRow(row)
	if u.Status != StatusImporting {
		return nil // finished (or cancelled) already
	}
	err = s.importRows(ctx, u, args)
	switch {
	case err == nil:
		s.afterRows(ctx, u)
		_, err = s.finish(context.WithoutCancel(ctx), u, StatusDone, "")
		return err
	case errors.Is(context.Cause(ctx), rivertype.ErrJobCancelledRemotely):
		if _, ferr := s.finish(context.WithoutCancel(ctx), u, StatusCancelled, ""); ferr != nil {
			return ferr
		}
		return err
	case errors.Is(err, errPermanent):
		_, ferr := s.finish(context.WithoutCancel(ctx), u, StatusFailed, apperr.MessageOf(err))
		return ferr
	case lastAttempt:
		s.logger.ErrorContext(ctx, "imports: import failed", "upload", u.ID, "err", err)
		_, ferr := s.finish(context.WithoutCancel(ctx), u, StatusFailed, "The import stopped on an error on our side; the rows imported so far are in the table.")
		return errors.Join(err, ferr)
	}
	return err
}

// readyWait bounds how long an import's end waits for the indexes of a
// table it made big (workbooks.PrepareTableForReads).
const readyWait = 2 * time.Minute

// afterRows completes a table whose rows are all written: select columns get
// their choices from the values imported; and after many rows, a table the
// import made big gets its indexes and every table fresh planner's
// statistics, before the upload says done, so that the first sorted or
// filtered page is as fast as the ones after it. It is best effort: the rows
// are in, and a failure here only leaves the column without options or the
// indexes to the first pages that ask for them.
func (s *Service) afterRows(ctx context.Context, u Upload) {
	if u.TableID == "" {
		return
	}
	if _, err := s.workbooks.AdoptSelectOptions(ctx, u.OwnerID, u.WorkbookID, u.TableID); err != nil && !apperr.Is(err, apperr.NotFound) {
		s.logger.WarnContext(ctx, "imports: set select options", "upload", u.ID, "err", err)
	}
	row, err := s.q.GetUploadByID(ctx, u.ID)
	if err != nil || row.RowsImported < workbooks.BulkWriteRows {
		return
	}
	t, err := s.workbooks.FindTable(ctx, u.OwnerID, u.WorkbookID, u.TableID)
	if err == nil {
		err = s.workbooks.PrepareTableForReads(ctx, t, readyWait)
	}
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		s.logger.WarnContext(ctx, "imports: prepare the table for reads", "upload", u.ID, "err", err)
	}
}

// column is a table column an import fills from one file column.
type column struct {
	index int // in the file
	col   workbooks.Column
}

// importState is an import in progress: where its rows come from and what
// the batch being written has read.
type importState struct {
	u Upload
	// table is the table the records go to; ids names them.
	table  workbooks.Table
	ids    *workbooks.RecordIDs
	file   *fileRows
	blocks <-chan *block
	free   chan *block

	// The batch being written.
	rows       int
	problems   []Problem
	rejected   int64
	cellErrors int64
	lastRow    int64
	bytesRead  int64
	eof        bool
}

func (s *Service) importRows(ctx context.Context, u Upload, args ImportCSVArgs) error {
	// The file's reader stops with the batches, whatever ends them.
	readCtx, stop := context.WithCancel(ctx)
	defer stop()
	st, err := s.openImport(readCtx, u, args)
	if err != nil {
		return err
	}
	blocks, free := make(chan *block, blocksAhead), make(chan *block, blocksAhead+2)
	st.blocks, st.free = blocks, free
	var reading sync.WaitGroup
	reading.Go(func() { st.file.run(readCtx, blocks, free) })
	defer func() {
		stop()
		reading.Wait()
	}()
	for batches := 1; ; batches++ {
		more, err := s.commitBatch(ctx, st)
		if err != nil || !more {
			return err
		}
		if s.afterBatch != nil {
			if err := s.afterBatch(batches); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// errTableDeleted ends an import whose table was deleted meanwhile.
var errTableDeleted = fmt.Errorf("%w: %w", errPermanent, apperr.New(apperr.NotFound, "The table was deleted during the import."))

// openImport prepares the import of u: the columns to fill, the keys already
// taken and the file's reader.
func (s *Service) openImport(ctx context.Context, u Upload, args ImportCSVArgs) (*importState, error) {
	t, err := s.workbooks.FindTable(ctx, u.OwnerID, u.WorkbookID, args.TableID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, errTableDeleted
	}
	if err != nil {
		return nil, err
	}
	st := &importState{u: u, lastRow: u.LastRow, table: t, ids: workbooks.NewRecordIDs()}
	f := &fileRows{
		skip: u.LastRow, batchRows: s.batchRows, problemsLeft: max(0, maxProblems-len(u.Problems)),
		keyIndex: args.Mapping.KeyIndex, seed: maphash.MakeSeed(),
	}
	for _, m := range args.Mapping.Columns {
		c, ok := t.Columns.ByID(m.ColumnID)
		if !ok {
			continue // removed since: nothing to fill
		}
		f.cols = append(f.cols, column{index: m.Index, col: c})
		if m.Index == f.keyIndex {
			f.keyColumn = c.ID
		}
	}
	slices.SortFunc(f.cols, func(a, b column) int { return workbooks.JSONBKeyOrder(a.col.ID, b.col.ID) })
	if f.keyIndex >= 0 {
		if f.keyColumn == "" {
			f.keyColumn = "remote_id"
		}
		if f.keys, err = s.loadKeys(ctx, u, f.seed); err != nil {
			return nil, err
		}
	}

	sniffed, replay, err := csvimport.Sniff(s.openFileAhead(ctx, u.ID))
	if err != nil {
		return nil, fileError(err)
	}
	if sniffed.BOM {
		f.bom = 3
	}
	delim := args.Mapping.Delimiter
	if delim == 0 {
		delim = sniffed.Delimiter
	}
	if f.rd, err = csvimport.NewReader(replay, csvimport.Options{Delimiter: delim}); err != nil {
		return nil, fileError(err)
	}
	f.header = f.rd.Header()
	st.file = f
	return st, nil
}

func fileError(err error) error {
	if msg, ok := fileErrorMessage(err); ok {
		return fmt.Errorf("%w: %w", errPermanent, apperr.Wrap(apperr.Invalid, err, "%s", msg))
	}
	return err
}

// loadKeys returns the set of keys already used in the table (by an earlier
// attempt), so duplicates are caught across a resume.
func (s *Service) loadKeys(ctx context.Context, u Upload, seed maphash.Seed) (map[uint64]struct{}, error) {
	keys := map[uint64]struct{}{}
	if u.LastRow == 0 {
		return keys, nil
	}
	ids, err := s.q.ListTableRemoteIDs(ctx, db.ListTableRemoteIDsParams{WorkbookID: u.WorkbookID, TableID: u.TableID})
	if err != nil {
		return nil, fmt.Errorf("imports: load keys: %w", err)
	}
	for _, id := range ids {
		if id != nil {
			keys[maphash.String(seed, *id)] = struct{}{}
		}
	}
	return keys, nil
}

// batchRows is the batch's rows for the record store's bulk path
// (workbooks.CopyRecordsTx): the rows of the blocks the file's reader sends,
// up to the end of the batch. It takes in what the blocks
// read for the batch's checkpoint.
type batchRows struct {
	st  *importState
	cur *block
	i   int // rows of cur already sent
	row []any
	err error
}

// Next moves to the batch's next row.
func (r *batchRows) Next() bool {
	for {
		if r.cur != nil {
			if r.i < r.cur.rows() {
				r.i++
				return true
			}
			done := r.cur.endOfBatch
			select {
			case r.st.free <- r.cur:
			default:
			}
			r.cur = nil
			if done {
				return false
			}
		}
		b, ok := <-r.st.blocks
		if !ok {
			// The reader stops early only when the job is cancelled.
			r.err = errors.New("imports: file reader stopped")
			return false
		}
		if b.err != nil {
			r.err = b.err
			return false
		}
		r.take(b)
	}
}

// take starts sending b's rows and counts what it read.
func (r *batchRows) take(b *block) {
	st := r.st
	r.cur, r.i = b, 0
	st.rows += b.rows()
	st.problems = append(st.problems, b.problems...)
	st.rejected += b.rejected
	st.cellErrors += b.cellErrors
	if b.lastRow > 0 {
		st.lastRow = b.lastRow
	}
	st.bytesRead, st.eof = b.offset, b.eof
}

// Row returns the current row, valid until the next call of Next: COPY
// encodes it at once.
func (r *batchRows) Row() workbooks.NewRecordRow {
	b, i := r.cur, r.i-1
	return workbooks.NewRecordRow{RemoteID: b.remoteIDs[i], Fields: b.fields(i), Problems: b.errs[i]}
}

// Err returns the error that ended the rows early.
func (r *batchRows) Err() error { return r.err }

// commitBatch copies the next batch of rows into records and commits it
// with the checkpoint and a progress event, in one transaction. It reports
// whether rows remain.
func (s *Service) commitBatch(ctx context.Context, st *importState) (more bool, err error) {
	next := st.u
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.writeBatch(ctx, tx, st, &next); err != nil {
			return err
		}
		// The job must still be this attempt's: a batch never commits
		// after the job was rescued and handed to another attempt. Held
		// last, so the job's row is locked for the commit only.
		return joblease.Hold(ctx, tx)
	})
	if err != nil {
		return false, fmt.Errorf("imports: commit batch: %w", err)
	}
	st.u = next
	st.rows, st.problems, st.rejected, st.cellErrors = 0, nil, 0, 0
	return !st.eof, nil
}

// writeBatch is the body of commitBatch's transaction: it copies the batch
// and records its checkpoint into next.
func (s *Service) writeBatch(ctx context.Context, tx pgx.Tx, st *importState, next *Upload) error {
	// A batch need not wait for its commit to reach the disk: its
	// checkpoint is in the same transaction, so a crash loses both and the
	// retry redoes the batch. (Records compress their values with LZ4 where
	// the server has it: migration 00009.)
	if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
		return err
	}
	if _, err := s.workbooks.CopyRecordsTx(ctx, tx, st.table, st.ids, &batchRows{st: st}); apperr.Is(err, apperr.NotFound) {
		return errTableDeleted
	} else if err != nil {
		return err
	}
	q := db.New(tx)
	if st.rows == 0 && st.lastRow == st.u.LastRow {
		return nil
	}
	problems := []byte("[]")
	if len(st.problems) > 0 {
		var err error
		if problems, err = json.Marshal(st.problems); err != nil {
			return err
		}
	}
	next.LastRow = st.lastRow
	next.BytesDone = min(st.bytesRead, st.u.SizeBytes)
	if st.eof {
		next.BytesDone = st.u.SizeBytes
	}
	next.RowsImported += int64(st.rows)
	next.RowsRejected += st.rejected
	next.CellErrors += st.cellErrors
	next.Problems = append(next.Problems, st.problems...)
	if err := q.CheckpointUpload(ctx, db.CheckpointUploadParams{
		ID: st.u.ID, LastRow: next.LastRow, BytesDone: next.BytesDone, RowsAdded: int64(st.rows),
		RejectedAdded: st.rejected, CellErrorsAdded: st.cellErrors, NewProblems: problems,
	}); err != nil {
		return err
	}
	return s.notifyProgress(ctx, tx, *next)
}

// finish records the end of an import, deletes the file's chunks and tells
// the workbook's viewers and the owner. An import that has already finished
// is left as it is. Inside a job it first checks that the attempt still
// holds the job (joblease.Hold), so a rescued attempt cannot end an import
// that another attempt carries on.
func (s *Service) finish(ctx context.Context, u Upload, status, message string) (Upload, error) {
	var out Upload
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if out, err = s.finishTx(ctx, tx, u.ID, status, message); err != nil {
			return err
		}
		return joblease.Hold(ctx, tx)
	})
	if err != nil {
		return Upload{}, fmt.Errorf("imports: finish import: %w", err)
	}
	return out, nil
}

// finishTx is finish inside tx, for upload id.
func (s *Service) finishTx(ctx context.Context, tx pgx.Tx, id, status, message string) (Upload, error) {
	q := db.New(tx)
	var msg *string
	if message != "" {
		msg = &message
	}
	row, err := q.FinishUpload(ctx, db.FinishUploadParams{ID: id, Status: status, Error: msg})
	if db.IsNoRows(err) {
		row, err = q.GetUploadByID(ctx, id)
		return uploadFromRow(row), err
	}
	if err != nil {
		return Upload{}, err
	}
	out := uploadFromRow(row)
	if err := q.DeleteUploadChunks(ctx, id); err != nil {
		return Upload{}, err
	}
	if err := s.notifyProgress(ctx, tx, out); err != nil {
		return Upload{}, err
	}
	return out, notifyToast(ctx, tx, out)
}

// abandonedMessage is what a failed import says when its job was given up
// after its last attempt's process died.
const abandonedMessage = "The import stopped because the server running it went away, and no retry was left; the rows imported so far are in the table."

// EndAbandonedImport records the end of an import whose job the rescuer
// cancelled (a cancel was asked for while its process was dead) or
// discarded (its last attempt's process died), in the rescue's transaction
// tx. args is the job's ImportCSVArgs. An import already finished is left
// as it is.
func (s *Service) EndAbandonedImport(ctx context.Context, tx pgx.Tx, args []byte, cancelled bool) error {
	var a ImportCSVArgs
	if err := json.Unmarshal(args, &a); err != nil {
		return fmt.Errorf("imports: decode job args: %w", err)
	}
	status, msg := StatusFailed, abandonedMessage
	if cancelled {
		status, msg = StatusCancelled, ""
	}
	if _, err := s.finishTx(ctx, tx, a.UploadID, status, msg); err != nil && !db.IsNoRows(err) {
		return fmt.Errorf("imports: end abandoned import: %w", err)
	}
	return nil
}
