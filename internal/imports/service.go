package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/joblease"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// ChunkBytes is the size of the stored pieces of an uploaded file.
const ChunkBytes = 1 << 20

// Service is the CSV import and export domain.
type Service struct {
	pool      *pgxpool.Pool
	q         *db.Queries
	workbooks *workbooks.Service
	// river is an insert-only client: it enqueues and cancels import jobs;
	// the app's own client, which works them, registers ImportCSVWorker.
	river  *river.Client[pgx.Tx]
	logger *slog.Logger
	// batchRows is how many rows RunImport commits at a time.
	batchRows int
	// afterBatch, when set (by tests), runs after each committed batch; an
	// error stops the import as a crash would.
	afterBatch func(batches int) error
	// insertOpts, when set (by tests), overrides the import job's insert
	// options, so that a test can make River refuse the job.
	insertOpts *river.InsertOpts
	// lease is the timing of import jobs' leases: a cancel ends at once an
	// import whose worker has been silent for lease.Silent().
	lease joblease.Timing
}

// Options tunes NewService.
type Options struct {
	// BatchRows is how many rows an import commits per transaction;
	// DefaultBatchRows when zero.
	BatchRows int
	Logger    *slog.Logger
	// Lease is the timing of job leases (internal/joblease); zero means
	// joblease.DefaultLease.
	Lease joblease.Timing
}

// DefaultBatchRows is the number of rows an import commits at a time: big
// enough that per-transaction costs vanish, small enough that a retry redoes
// little and progress moves every second or so.
const DefaultBatchRows = 5000

// NewService returns the imports service.
func NewService(pool *pgxpool.Pool, wb *workbooks.Service, opts Options) (*Service, error) {
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("imports: river client: %w", err)
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = DefaultBatchRows
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Lease.Lease <= 0 {
		opts.Lease.Lease = joblease.DefaultLease
	}
	return &Service{pool: pool, q: db.New(pool), workbooks: wb, river: rc, logger: opts.Logger, batchRows: opts.BatchRows, lease: opts.Lease}, nil
}

// Upload statuses.
const (
	StatusUploading = "uploading"
	StatusUploaded  = "uploaded"
	StatusImporting = "importing"
	StatusDone      = "done"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Upload is an uploaded file and the state of its import.
type Upload struct {
	ID         string
	WorkbookID string
	OwnerID    string
	Filename   string
	SizeBytes  int64
	Status     string
	// TableID is the table the import fills, once started.
	TableID string
	JobID   int64
	// LastRow is the file row (the header is row 1) of the last committed
	// row; BytesDone the bytes of the file read up to it.
	LastRow      int64
	BytesDone    int64
	RowsImported int64
	RowsRejected int64
	CellErrors   int64
	// Problems are the first rejected rows and failed cells, in file order.
	Problems []Problem
	// Error says why a failed import failed, in words fit for the user.
	Error      string
	CreatedAt  time.Time
	FinishedAt *time.Time
}

// Finished reports whether the import has ended one way or another.
func (u Upload) Finished() bool {
	return u.Status == StatusDone || u.Status == StatusFailed || u.Status == StatusCancelled
}

// Problem is one row or cell the import could not take as it was.
type Problem struct {
	Row    int    `json:"row"`
	Column int    `json:"column,omitempty"`
	Name   string `json:"name,omitempty"`
	// Message is fit to show to the user; it never quotes more than a short
	// excerpt of the data.
	Message string `json:"message"`
}

func uploadFromRow(r db.Upload) Upload {
	u := Upload{
		ID: r.ID, WorkbookID: r.WorkbookID, OwnerID: r.OwnerID, Filename: r.Filename, SizeBytes: r.SizeBytes,
		Status: r.Status, LastRow: r.LastRow, BytesDone: r.BytesDone, RowsImported: r.RowsImported,
		RowsRejected: r.RowsRejected, CellErrors: r.CellErrors, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt,
	}
	if r.TableID != nil {
		u.TableID = *r.TableID
	}
	if r.JobID != nil {
		u.JobID = *r.JobID
	}
	if r.Error != nil {
		u.Error = *r.Error
	}
	_ = json.Unmarshal(r.Problems, &u.Problems) //nolint:errcheck // written by us; a bad list shows no problems
	return u
}

var errUploadNotFound = apperr.New(apperr.NotFound, "Upload not found.")

// maxFilenameLength bounds the stored file name, in bytes.
const maxFilenameLength = 255

// CreateUpload stores the file read from r as an upload for one of the
// owner's workbooks, in chunks of ChunkBytes, reading at most maxBytes (0
// means no limit). Memory use is one chunk whatever the file's size. A read
// error that already has a kind (the TooLarge a handler makes of a request
// body past its limit) is returned as it is; any other means the upload was
// interrupted. Errors: NotFound (the workbook), TooLarge, Invalid (an empty
// or interrupted file).
func (s *Service) CreateUpload(ctx context.Context, ownerID, workbookID, filename string, r io.Reader, maxBytes int64) (Upload, error) {
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(workbookID) {
		return Upload{}, apperr.New(apperr.NotFound, "Workbook not found.")
	}
	row, err := s.q.CreateUpload(ctx, db.CreateUploadParams{OwnerID: ownerID, WorkbookID: workbookID, Filename: cleanFilename(filename)})
	if db.IsNoRows(err) {
		return Upload{}, apperr.New(apperr.NotFound, "Workbook not found.")
	}
	if err != nil {
		return Upload{}, fmt.Errorf("imports: create upload: %w", err)
	}
	size, chunks, err := s.storeChunks(ctx, row.ID, r, maxBytes)
	if err == nil && size == 0 {
		err = apperr.New(apperr.Invalid, "The file is empty.")
	}
	if err != nil {
		// Nothing of a failed upload is kept; the chunks go with the row.
		if derr := s.q.DeleteUpload(context.WithoutCancel(ctx), row.ID); derr != nil {
			s.logger.WarnContext(ctx, "imports: delete failed upload", "upload", row.ID, "err", derr)
		}
		return Upload{}, err
	}
	row, err = s.q.CompleteUpload(ctx, db.CompleteUploadParams{ID: row.ID, SizeBytes: size, ChunkCount: int32(chunks)})
	if err != nil {
		return Upload{}, fmt.Errorf("imports: complete upload: %w", err)
	}
	return uploadFromRow(row), nil
}

// storeChunks copies r into the upload's chunks, each written on its own so
// no transaction grows with the file.
func (s *Service) storeChunks(ctx context.Context, uploadID string, r io.Reader, maxBytes int64) (size int64, chunks int, err error) {
	buf := make([]byte, ChunkBytes)
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			size += int64(n)
			if maxBytes > 0 && size > maxBytes {
				return 0, 0, apperr.New(apperr.TooLarge, "The file is larger than the limit of %s.", ByteSize(maxBytes))
			}
			if err := s.q.AddUploadChunk(ctx, db.AddUploadChunkParams{UploadID: uploadID, Seq: int32(chunks), Data: buf[:n]}); err != nil {
				return 0, 0, fmt.Errorf("imports: store chunk: %w", err)
			}
			chunks++
		}
		switch {
		case errors.Is(rerr, io.EOF), errors.Is(rerr, io.ErrUnexpectedEOF):
			return size, chunks, nil
		case apperr.KindOf(rerr) != apperr.Internal:
			// The caller classified the failure: a request body past its
			// limit is TooLarge, translated by the handler that set it.
			return 0, 0, rerr
		case rerr != nil:
			return 0, 0, apperr.Wrap(apperr.Invalid, rerr, "The upload was interrupted; please try again.")
		}
	}
}

// FindUploadsByJobs returns ownerID's uploads that the given import jobs
// fill, by job id; another user's upload is not found, whatever its job.
func (s *Service) FindUploadsByJobs(ctx context.Context, ownerID string, jobIDs []int64) (map[int64]Upload, error) {
	out := map[int64]Upload{}
	if len(jobIDs) == 0 || !ids.ValidUUID(ownerID) {
		return out, nil
	}
	rows, err := s.q.ListOwnerUploadsByJobs(ctx, db.ListOwnerUploadsByJobsParams{OwnerID: ownerID, JobIds: jobIDs})
	if err != nil {
		return nil, fmt.Errorf("imports: find uploads by job: %w", err)
	}
	for _, r := range rows {
		u := uploadFromRow(r)
		out[u.JobID] = u
	}
	return out, nil
}

// FindUploadsOfJobs returns the uploads the given import jobs fill, by job
// id, whoever owns them: for admins, who see every job.
func (s *Service) FindUploadsOfJobs(ctx context.Context, jobIDs []int64) (map[int64]Upload, error) {
	out := map[int64]Upload{}
	if len(jobIDs) == 0 {
		return out, nil
	}
	rows, err := s.q.ListUploadsByJobs(ctx, jobIDs)
	if err != nil {
		return nil, fmt.Errorf("imports: find uploads of jobs: %w", err)
	}
	for _, r := range rows {
		u := uploadFromRow(r)
		out[u.JobID] = u
	}
	return out, nil
}

// FindUploadByJob returns the upload an import job fills, whoever owns it,
// for an admin's cancel. Errors: NotFound.
func (s *Service) FindUploadByJob(ctx context.Context, jobID int64) (Upload, error) {
	row, err := s.q.GetUploadByJobID(ctx, &jobID)
	if db.IsNoRows(err) {
		return Upload{}, errUploadNotFound
	}
	if err != nil {
		return Upload{}, fmt.Errorf("imports: find upload by job: %w", err)
	}
	return uploadFromRow(row), nil
}

// FindUpload returns one of the owner's uploads to a workbook.
// Errors: NotFound.
func (s *Service) FindUpload(ctx context.Context, ownerID, workbookID, uploadID string) (Upload, error) {
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(workbookID) || !ids.ValidUUID(uploadID) {
		return Upload{}, errUploadNotFound
	}
	row, err := s.q.GetUpload(ctx, db.GetUploadParams{ID: uploadID, WorkbookID: workbookID, OwnerID: ownerID})
	if db.IsNoRows(err) {
		return Upload{}, errUploadNotFound
	}
	if err != nil {
		return Upload{}, fmt.Errorf("imports: find upload: %w", err)
	}
	return uploadFromRow(row), nil
}
