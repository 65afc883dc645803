package imports

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/joblease"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// QueueImports is the River queue import jobs run in, apart from the
// default queue so a large import never holds up short jobs.
const QueueImports = "imports"

// ImportCSVArgs is the job that imports an upload into its table.
type ImportCSVArgs struct {
	UploadID   string `json:"upload_id"`
	WorkbookID string `json:"workbook_id"`
	TableID    string `json:"table_id"`
	// Mapping says which file column goes to which table column.
	Mapping Mapping `json:"mapping"`
}

// Kind identifies the job in River.
func (ImportCSVArgs) Kind() string { return "import_csv" }

// InsertOpts puts imports in their own queue. A failed attempt resumes from
// the checkpoint, so a few retries are cheap.
func (ImportCSVArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueImports, MaxAttempts: 5}
}

// Mapping is how an import reads the file: its delimiter and, for every
// imported file column, the table column it fills. File columns that are
// not listed are skipped.
type Mapping struct {
	Delimiter rune           `json:"delimiter"`
	Columns   []MappedColumn `json:"columns"`
	// KeyIndex is the file column whose values become the records' remote
	// ids (so later imports can match on them); -1 for none.
	KeyIndex int `json:"key_index"`
}

// MappedColumn maps one file column (0-based Index) to a table column.
type MappedColumn struct {
	Index    int    `json:"index"`
	ColumnID string `json:"column_id"`
}

// ColumnChoice is what the person chose on the preview for one file column.
type ColumnChoice struct {
	// Index is the 0-based column of the file.
	Index  int
	Name   string
	Type   values.Type
	Format string
	Skip   bool
}

// ImportInput is the preview form: the table to create and its columns.
type ImportInput struct {
	TableName string
	Columns   []ColumnChoice
	// KeyColumn optionally names a file column (by header name) whose
	// values identify the records.
	KeyColumn string
}

// StartImport creates the table chosen on the preview and enqueues the job
// that fills it. Errors: NotFound, Invalid (a bad choice or an unreadable
// file), Conflict (the upload is already imported or importing).
//
// The upload is locked, the table created, the job enqueued and the upload
// marked started in one transaction: a failure anywhere leaves no table
// behind, and of two concurrent starts of one upload the second waits for
// the first and then finds the upload taken.
func (s *Service) StartImport(ctx context.Context, ownerID, workbookID, uploadID string, in ImportInput) (Upload, workbooks.Table, error) {
	u, err := s.FindUpload(ctx, ownerID, workbookID, uploadID)
	if err != nil {
		return Upload{}, workbooks.Table{}, err
	}
	if u.Status != StatusUploaded {
		return Upload{}, workbooks.Table{}, errAlreadyImported
	}
	// The file is read, and the choices checked against it, before the
	// transaction, so the upload is never locked while chunks are read.
	sniffed, _, err := s.openCSV(ctx, uploadID)
	if err != nil {
		if _, ferr := s.FindUpload(ctx, ownerID, workbookID, uploadID); ferr != nil {
			return Upload{}, workbooks.Table{}, ferr // deleted (with its chunks) meanwhile
		}
		return Upload{}, workbooks.Table{}, errFileUnreadable(err)
	}
	cols, picked, keyIndex, err := resolveChoices(sniffed.Header, in)
	if err != nil {
		return Upload{}, workbooks.Table{}, err
	}
	name := strings.TrimSpace(in.TableName)
	if name == "" {
		name = TableNameFromFilename(u.Filename)
	}
	var t workbooks.Table
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		// The workbook first, as deleting it locks it and then, by cascade,
		// its uploads: the other order deadlocks with a deletion.
		if _, err := q.LockWorkbook(ctx, db.LockWorkbookParams{ID: workbookID, OwnerID: ownerID}); db.IsNoRows(err) {
			return errUploadNotFound // deleted with its workbook meanwhile
		} else if err != nil {
			return err
		}
		row, err := q.LockUpload(ctx, db.LockUploadParams{ID: uploadID, WorkbookID: workbookID, OwnerID: ownerID})
		if db.IsNoRows(err) {
			return errUploadNotFound // purged, or deleted with its workbook, meanwhile
		}
		if err != nil {
			return err
		}
		if row.Status != StatusUploaded {
			return errAlreadyImported
		}
		t, err = s.workbooks.CreateTableTx(ctx, tx, ownerID, workbookID, workbooks.TableInput{Name: name, Columns: cols, Source: "csv"})
		if err != nil {
			return err
		}
		m := Mapping{Delimiter: sniffed.Delimiter, KeyIndex: keyIndex}
		for i, idx := range picked {
			m.Columns = append(m.Columns, MappedColumn{Index: idx, ColumnID: t.Columns[i].ID})
		}
		u, err = s.enqueueImportTx(ctx, tx, ownerID, ImportCSVArgs{UploadID: uploadID, WorkbookID: workbookID, TableID: t.ID, Mapping: m})
		return err
	})
	if err != nil {
		return Upload{}, workbooks.Table{}, wrap("start import", err)
	}
	return u, t, nil
}

var errAlreadyImported = apperr.New(apperr.Conflict, "This file has already been imported.")

// enqueueImportTx inserts the job that fills the table and marks the
// locked upload started, inside tx. The job's metadata names its owner, which
// is how the jobs API (internal/jobs, FindOwnedJobs) finds a user's jobs.
func (s *Service) enqueueImportTx(ctx context.Context, tx pgx.Tx, ownerID string, args ImportCSVArgs) (Upload, error) {
	mapping, err := json.Marshal(args.Mapping)
	if err != nil {
		return Upload{}, fmt.Errorf("encode mapping: %w", err)
	}
	// The metadata goes into whatever options apply; the queue and attempts
	// still come from ImportCSVArgs.InsertOpts, which River merges in.
	var opts river.InsertOpts
	if s.insertOpts != nil {
		opts = *s.insertOpts
	}
	if opts.Metadata, err = json.Marshal(map[string]string{"owner_id": ownerID}); err != nil {
		return Upload{}, fmt.Errorf("encode job metadata: %w", err)
	}
	res, err := s.river.InsertTx(ctx, tx, args, &opts)
	if err != nil {
		return Upload{}, fmt.Errorf("enqueue: %w", err)
	}
	jobID := res.Job.ID
	row, err := db.New(tx).StartUploadImport(ctx, db.StartUploadImportParams{ID: args.UploadID, TableID: &args.TableID, Mapping: mapping, JobID: &jobID})
	if err != nil {
		return Upload{}, err
	}
	u := uploadFromRow(row)
	return u, s.notifyProgress(ctx, tx, u)
}

// resolveChoices checks the preview form against the file's header and
// returns the table's columns, the file column of each, and the key column.
func resolveChoices(header []string, in ImportInput) ([]workbooks.ColumnInput, []int, int, error) {
	var (
		cols     []workbooks.ColumnInput
		picked   []int
		problems []apperr.FieldError
		seen     = map[int]bool{}
	)
	keyIndex := -1
	for _, ch := range in.Columns {
		if ch.Index < 0 || ch.Index >= len(header) || seen[ch.Index] {
			problems = append(problems, apperr.FieldError{Field: fmt.Sprintf("columns[%d]", ch.Index), Message: "is not a column of the file"})
			continue
		}
		seen[ch.Index] = true
		if in.KeyColumn != "" && strings.EqualFold(strings.TrimSpace(in.KeyColumn), header[ch.Index]) {
			keyIndex = ch.Index
		}
		if ch.Skip {
			continue
		}
		name := strings.TrimSpace(ch.Name)
		if name == "" {
			name = header[ch.Index]
		}
		cols = append(cols, workbooks.ColumnInput{Name: name, Type: ch.Type, Format: ch.Format})
		picked = append(picked, ch.Index)
	}
	if in.KeyColumn != "" && keyIndex < 0 {
		problems = append(problems, apperr.FieldError{Field: "key_column", Message: fmt.Sprintf("is not a column of the file: %q", in.KeyColumn)})
	}
	if len(problems) == 0 && len(cols) == 0 {
		problems = append(problems, apperr.FieldError{Field: "columns", Message: "choose at least one column to import"})
	}
	if len(problems) > 0 {
		return nil, nil, -1, apperr.InvalidFields("Please correct the columns.", problems...)
	}
	return cols, picked, keyIndex, nil
}

// DefaultChoices imports every column of a preview with its inferred type.
func DefaultChoices(p Preview) []ColumnChoice {
	out := make([]ColumnChoice, len(p.Columns))
	for i, g := range p.Columns {
		out[i] = ColumnChoice{Index: i, Name: g.Name, Type: values.Type(g.Type), Format: g.Format}
	}
	return out
}

// CancelImport stops an import: a queued job is cancelled at once, a running
// one stops after its current batch. Rows already imported stay in the
// table. Errors: NotFound, Conflict (the import has finished).
func (s *Service) CancelImport(ctx context.Context, ownerID, workbookID, uploadID string) (Upload, error) {
	u, err := s.FindUpload(ctx, ownerID, workbookID, uploadID)
	if err != nil {
		return Upload{}, err
	}
	if u.Status != StatusImporting || u.JobID == 0 {
		return Upload{}, apperr.New(apperr.Conflict, "This import is not running.")
	}
	job, err := s.river.JobCancel(ctx, u.JobID)
	if err != nil {
		return Upload{}, fmt.Errorf("imports: cancel job: %w", err)
	}
	if job.State == rivertype.JobStateCancelled {
		// The job was not running (queued, or waiting for a retry), so no
		// worker will record the end.
		return s.finish(ctx, u, StatusCancelled, "")
	}
	// A running job stops after its current batch and records the end
	// itself, unless its process is gone: then the cancel ends it now.
	if err := s.endIfSilent(ctx, u.JobID); err != nil {
		return Upload{}, err
	}
	return s.FindUpload(ctx, ownerID, workbookID, uploadID)
}

// endIfSilent cancels import job id at once, with its upload, if its
// worker has missed its last heartbeats (its process died): no worker would
// otherwise see the cancel until the rescuer's lease runs out.
func (s *Service) endIfSilent(ctx context.Context, jobID int64) error {
	return db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		rescued, err := joblease.Rescue(ctx, tx, joblease.RescueParams{
			Kinds: []string{ImportCSVArgs{}.Kind()}, StaleAfter: s.lease.Silent(), JobID: jobID,
		})
		if err != nil {
			return err
		}
		for _, j := range rescued {
			if err := s.EndAbandonedImport(ctx, tx, j.Args, j.State == string(rivertype.JobStateCancelled)); err != nil {
				return err
			}
		}
		return nil
	})
}

// wrap adds context to an unclassified error and passes domain errors as is.
func wrap(action string, err error) error {
	if err == nil || apperr.KindOf(err) != apperr.Internal {
		return err
	}
	return fmt.Errorf("imports: %s: %w", action, err)
}
