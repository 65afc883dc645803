package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/riverqueue/river/rivertype"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/csvimport"
	"github.com/scratchpad/scratchpad/internal/db"
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
	row, err := s.q.GetUploadByID(ctx, args.UploadID)
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

// column is a table column an import fills from one file column.
type column struct {
	index int // in the file
	col   workbooks.Column
	// normalize says whether values go through workbooks.NormalizeValue
	// after ConvertCell; plain text and numbers are already canonical.
	normalize bool
}

// importState is an import in progress.
type importState struct {
	u         Upload
	uploadID  pgtype.UUID
	header    []string
	cols      []column
	keyIndex  int
	keyColumn string // the column id the key's errors are filed under
	keys      map[uint64]struct{}
	seed      maphash.Seed
	bom       int64

	rd *csvimport.Reader
	// The batch being built.
	rows       int
	row        []any
	problems   []Problem
	rejected   int64
	cellErrors int64
	lastRow    int64
	buf        []byte
	eof        bool
	lz4        bool
}

func (s *Service) importRows(ctx context.Context, u Upload, args ImportCSVArgs) error {
	t, err := s.workbooks.FindTable(ctx, u.OwnerID, u.WorkbookID, args.TableID)
	if apperr.Is(err, apperr.NotFound) {
		return fmt.Errorf("%w: %w", errPermanent, apperr.New(apperr.NotFound, "The table was deleted during the import."))
	}
	if err != nil {
		return err
	}
	st := &importState{u: u, keyIndex: args.Mapping.KeyIndex, lastRow: u.LastRow, seed: maphash.MakeSeed()}
	if err := st.uploadID.Scan(u.ID); err != nil {
		return err
	}
	for _, m := range args.Mapping.Columns {
		c, ok := t.Columns.ByID(m.ColumnID)
		if !ok {
			continue // removed since: nothing to fill
		}
		st.cols = append(st.cols, column{index: m.Index, col: c, normalize: needsNormalizing(c)})
		if m.Index == st.keyIndex {
			st.keyColumn = c.ID
		}
	}
	if st.keyIndex >= 0 {
		if st.keyColumn == "" {
			st.keyColumn = "remote_id"
		}
		if err := s.loadKeys(ctx, st); err != nil {
			return err
		}
	}

	if st.lz4, err = s.q.ToastLZ4Available(ctx); err != nil {
		return fmt.Errorf("imports: check lz4: %w", err)
	}
	sniffed, replay, err := csvimport.Sniff(s.openFile(ctx, u.ID))
	if err != nil {
		return fileError(err)
	}
	if sniffed.BOM {
		st.bom = 3
	}
	delim := args.Mapping.Delimiter
	if delim == 0 {
		delim = sniffed.Delimiter
	}
	rd, err := csvimport.NewReader(replay, csvimport.Options{Delimiter: delim})
	if err != nil {
		return fileError(err)
	}
	st.header = rd.Header()
	st.rd = rd
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

// needsNormalizing reports whether a column's converted values need the
// record store's normalization to be in its canonical form. ConvertCell's
// plain text and numbers already are, and they make up most cells.
func needsNormalizing(c workbooks.Column) bool {
	switch c.Type {
	case workbooks.TypeNumber:
		return false
	case workbooks.TypeText:
		return c.Format == workbooks.FormatURL || c.Format == workbooks.FormatEmail
	}
	return true
}

func fileError(err error) error {
	if msg, ok := fileErrorMessage(err); ok {
		return fmt.Errorf("%w: %w", errPermanent, apperr.Wrap(apperr.Invalid, err, "%s", msg))
	}
	return err
}

// loadKeys fills the set of keys already used in the table (by an earlier
// attempt), so duplicates are caught across a resume.
func (s *Service) loadKeys(ctx context.Context, st *importState) error {
	st.keys = map[uint64]struct{}{}
	if st.u.LastRow == 0 {
		return nil
	}
	ids, err := s.q.ListTableRemoteIDs(ctx, db.ListTableRemoteIDsParams{WorkbookID: st.u.WorkbookID, TableID: st.u.TableID})
	if err != nil {
		return fmt.Errorf("imports: load keys: %w", err)
	}
	for _, id := range ids {
		if id != nil {
			st.keys[maphash.String(st.seed, *id)] = struct{}{}
		}
	}
	return nil
}

func (st *importState) reject(p Problem) {
	st.rejected++
	st.lastRow = int64(p.Row)
	st.problem(p)
}

func (st *importState) problem(p Problem) {
	if len(st.u.Problems)+len(st.problems) < maxProblems {
		st.problems = append(st.problems, p)
	}
}

// add converts one row into a record's values for COPY. The values are
// valid until the next call: COPY encodes them at once.
func (st *importState) add(row csvimport.Row) []any {
	st.lastRow = int64(row.Number)
	b := st.buf[:0]
	b = append(b, '{')
	var errs map[string]string
	first := true
	for _, c := range st.cols {
		v, msg := convert(c, row.Cells[c.index])
		if msg != "" {
			if errs == nil {
				errs = map[string]string{}
			}
			errs[c.col.ID] = msg
			st.cellErrors++
			st.problem(Problem{Row: row.Number, Column: c.index + 1, Name: st.header[c.index], Message: msg})
			continue
		}
		if v == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, c.col.ID...) // ids are [a-z0-9_]: nothing to escape
		b = append(b, '"', ':')
		b = appendValue(b, v)
	}
	b = append(b, '}')
	st.buf = b
	fields := json.RawMessage(b)

	var remoteID *string
	if st.keyIndex >= 0 {
		if key := strings.TrimSpace(row.Cells[st.keyIndex]); key != "" {
			h := maphash.String(st.seed, key)
			if _, dup := st.keys[h]; dup {
				if errs == nil {
					errs = map[string]string{}
				}
				errs[st.keyColumn] = "the key is used by an earlier row"
				st.cellErrors++
				st.problem(Problem{Row: row.Number, Column: st.keyIndex + 1, Name: st.header[st.keyIndex], Message: "the key is used by an earlier row"})
			} else {
				st.keys[h] = struct{}{}
				remoteID = &key
			}
		}
	}
	errsJSON := json.RawMessage(`{}`)
	if errs != nil {
		errsJSON, _ = json.Marshal(errs) //nolint:errchkjson // a map of strings
	}
	if st.row == nil {
		st.row = make([]any, len(recordColumns))
	}
	st.row[0], st.row[1], st.row[2], st.row[3], st.row[4] = st.uploadID, st.rows, fields, errsJSON, remoteID
	st.rows++
	return st.row
}

// nextRow is the COPY's row source: the next row of the file past the
// checkpoint, until the batch is full (nil at its end). Rows stream from
// the file straight into COPY, so parsing overlaps the database's work and
// no batch is ever held in memory.
func (st *importState) nextRow(batchRows int) func() ([]any, error) {
	return func() ([]any, error) {
		for st.rows < batchRows {
			row, err := st.rd.Next()
			if errors.Is(err, io.EOF) {
				st.eof = true
				return nil, nil
			}
			if prob, ok := problemOf(err); ok {
				if int64(prob.Row) > st.u.LastRow {
					st.reject(prob)
				}
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("imports: read file: %w", err)
			}
			if int64(row.Number) <= st.u.LastRow {
				continue // committed by an earlier attempt
			}
			return st.add(row), nil
		}
		return nil, nil
	}
}

// convert turns a cell into its column's canonical value, or says why not.
func convert(c column, cell string) (any, string) {
	v, err := csvimport.ConvertCell(string(c.col.Type), c.col.Format, cell)
	if err != nil {
		return nil, err.Error()
	}
	if v == nil || !c.normalize {
		return v, ""
	}
	nv, err := workbooks.NormalizeValue(c.col, v)
	if err != nil {
		if fe := apperr.FieldsOf(err); len(fe) > 0 {
			return nil, fe[0].Message
		}
		return nil, apperr.MessageOf(err)
	}
	return nv, ""
}

// recordColumns are the columns of import_batches a batch is copied into;
// InsertImportBatch moves it into records, whose other columns take their
// defaults (a fresh id, the next seq, state clean, version 1).
var recordColumns = []string{"upload_id", "n", "fields", "errors", "remote_id"}

// commitBatch copies the next batch of rows into records and commits it
// with the checkpoint and a progress event, in one transaction. It reports
// whether rows remain.
func (s *Service) commitBatch(ctx context.Context, st *importState) (more bool, err error) {
	next := st.u
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		// Rows of long text pass the TOAST threshold; lz4 compresses them
		// several times faster than the default pglz. A batch need not wait
		// for its commit to reach the disk: its checkpoint is in the same
		// transaction, so a crash loses both and the retry redoes the batch.
		settings := "SET LOCAL synchronous_commit = off"
		if st.lz4 {
			settings += "; SET LOCAL default_toast_compression = 'lz4'"
		}
		if _, err := tx.Exec(ctx, settings); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_batches"}, recordColumns, pgx.CopyFromFunc(st.nextRow(s.batchRows))); err != nil {
			return fmt.Errorf("copy records: %w", err)
		}
		q := db.New(tx)
		if st.rows > 0 {
			if _, err := q.InsertImportBatch(ctx, db.InsertImportBatchParams{WorkbookID: st.u.WorkbookID, TableID: st.u.TableID, UploadID: st.u.ID}); err != nil {
				return fmt.Errorf("insert records: %w", err)
			}
			if err := q.ClearImportBatch(ctx, st.u.ID); err != nil {
				return err
			}
		}
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
		next.BytesDone = min(st.rd.Offset()+st.bom, st.u.SizeBytes)
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
		return s.notifyProgress(ctx, tx, next)
	})
	if err != nil {
		return false, fmt.Errorf("imports: commit batch: %w", err)
	}
	st.u = next
	st.rows, st.problems, st.rejected, st.cellErrors = 0, nil, 0, 0
	return !st.eof, nil
}

// finish records the end of an import, deletes the file's chunks and tells
// the workbook's viewers and the owner. An import that has already finished
// is left as it is.
func (s *Service) finish(ctx context.Context, u Upload, status, message string) (Upload, error) {
	var out Upload
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		var msg *string
		if message != "" {
			msg = &message
		}
		row, err := q.FinishUpload(ctx, db.FinishUploadParams{ID: u.ID, Status: status, Error: msg})
		if db.IsNoRows(err) {
			row, err = q.GetUploadByID(ctx, u.ID)
			out = uploadFromRow(row)
			return err
		}
		if err != nil {
			return err
		}
		out = uploadFromRow(row)
		if err := q.DeleteUploadChunks(ctx, u.ID); err != nil {
			return err
		}
		if err := s.notifyProgress(ctx, tx, out); err != nil {
			return err
		}
		return notifyToast(ctx, tx, out)
	})
	if err != nil {
		return Upload{}, fmt.Errorf("imports: finish import: %w", err)
	}
	return out, nil
}
