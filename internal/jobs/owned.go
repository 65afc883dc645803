package jobs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/imports"
	"github.com/scratchpad/scratchpad/internal/syncs"
)

// A job a user starts carries River metadata {"owner_id": "<user id>"},
// set when it is inserted (imports.Service.enqueueImportTx for imports).
// System jobs (index builds, purges) have no owner, so no user can list or
// reach them; jobs inserted before owners were recorded have none either.
const metadataOwnerKey = "owner_id"

// DefaultOwnedPageSize and MaxOwnedPageSize bound a page of a user's jobs.
const (
	DefaultOwnedPageSize = 50
	MaxOwnedPageSize     = 500
)

// OwnedJob is a job as the user who started it sees it.
type OwnedJob struct {
	// Job is the River job. Its Errors are safe to show the owner: which
	// attempt failed and when, never the internal error text, which only
	// admins see.
	Job
	// Import is the upload an import job fills: where its file stands and
	// what became of its rows. Nil for other kinds, and for an import whose
	// workbook has been deleted since.
	Import *imports.Upload
	// Sync is the pull or publish a sync job runs, with its tables'
	// progress. Nil for other kinds.
	Sync *syncs.Sync
}

// Finished reports whether the job has ended one way or another.
func (j OwnedJob) Finished() bool { return !j.Cancellable() }

// Progress is how far a job has got: Done of Total Units.
type Progress struct {
	Done  int64
	Total int64
	Unit  string
}

// Progress returns how far the job has got, and false when its kind does not
// report progress.
func (j OwnedJob) Progress() (Progress, bool) {
	switch {
	case j.Import != nil:
		return Progress{Done: j.Import.BytesDone, Total: j.Import.SizeBytes, Unit: "bytes"}, true
	case j.Sync != nil:
		c := j.Sync.Counts()
		total := c.Total
		for _, t := range j.Sync.Tables {
			if t.Total < 0 {
				total = -1 // not known yet
			}
		}
		return Progress{Done: c.Done, Total: total, Unit: "records"}, true
	}
	return Progress{}, false
}

// OwnedJobFilter selects a page of a user's jobs.
type OwnedJobFilter struct {
	// Cursor continues after the last job of a previous page.
	Cursor string
	// Limit is the page size: DefaultOwnedPageSize when zero, at most
	// MaxOwnedPageSize.
	Limit int
}

// OwnedJobPage is one page of a user's jobs, newest first.
type OwnedJobPage struct {
	Jobs []OwnedJob
	// NextCursor continues the list; empty on the last page.
	NextCursor string
}

var (
	errJobNotFound   = apperr.New(apperr.NotFound, "Job not found.")
	errJobFinished   = apperr.New(apperr.Conflict, "This job has already finished.")
	errBadJobsCursor = apperr.InvalidFields("This page link is no longer valid; start from the first page.",
		apperr.FieldError{Field: "cursor", Message: "is invalid"})
)

// FindOwnedJobs returns a page of the jobs ownerID started, newest first.
// Pages are keyset pages on the job id, so jobs started between two pages
// neither shift nor repeat the others. Errors: Invalid (a bad cursor or
// limit).
func (s *Service) FindOwnedJobs(ctx context.Context, ownerID string, f OwnedJobFilter) (OwnedJobPage, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultOwnedPageSize
	case limit < 0 || limit > MaxOwnedPageSize:
		return OwnedJobPage{}, apperr.InvalidFields("The page size is not valid.",
			apperr.FieldError{Field: "limit", Message: fmt.Sprintf("must be a whole number from 1 to %d", MaxOwnedPageSize)})
	}
	owner, err := ownerMetadata(ownerID)
	if err != nil {
		return OwnedJobPage{}, err
	}
	// One more than the page tells whether another page follows.
	params := river.NewJobListParams().Metadata(owner).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(limit + 1)
	if f.Cursor != "" {
		before, ok := decodeJobsCursor(f.Cursor)
		if !ok {
			return OwnedJobPage{}, errBadJobsCursor
		}
		params = params.After(river.JobListCursorFromJob(&rivertype.JobRow{ID: before}))
	}
	res, err := s.client.JobList(ctx, params)
	if err != nil {
		return OwnedJobPage{}, fmt.Errorf("jobs: list owned: %w", err)
	}
	rows := res.Jobs
	var page OwnedJobPage
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextCursor = encodeJobsCursor(rows[limit-1].ID)
	}
	if page.Jobs, err = s.ownedJobs(ctx, ownerID, rows); err != nil {
		return OwnedJobPage{}, err
	}
	return page, nil
}

// FindOwnedJob returns one job ownerID started. Another user's job, a system
// job, and an id that is malformed or unknown are all not found.
// Errors: NotFound.
func (s *Service) FindOwnedJob(ctx context.Context, ownerID, jobID string) (OwnedJob, error) {
	row, err := s.ownedRow(ctx, ownerID, jobID)
	if err != nil {
		return OwnedJob{}, err
	}
	jobs, err := s.ownedJobs(ctx, ownerID, []*rivertype.JobRow{row})
	if err != nil {
		return OwnedJob{}, err
	}
	return jobs[0], nil
}

// CancelOwnedJob cancels a job ownerID started and returns it as it is
// then. A job still queued is cancelled at once; a running one is told to
// stop and stays running until it does (an import stops after its current
// batch, keeping the rows already imported). An import is cancelled through
// imports.Service.CancelImport, which also records the end on its upload.
// Errors: NotFound (as FindOwnedJob), Conflict (the job has finished).
func (s *Service) CancelOwnedJob(ctx context.Context, ownerID, jobID string) (OwnedJob, error) {
	j, err := s.FindOwnedJob(ctx, ownerID, jobID)
	if err != nil {
		return OwnedJob{}, err
	}
	if j.Finished() {
		return OwnedJob{}, errJobFinished
	}
	switch {
	case j.Import != nil:
		_, err = s.imports.CancelImport(ctx, ownerID, j.Import.WorkbookID, j.Import.ID)
	case j.Sync != nil:
		_, err = s.syncs.CancelSync(ctx, ownerID, j.Sync.ID)
	default:
		_, err = s.cancel(ctx, j.ID)
	}
	switch {
	case apperr.Is(err, apperr.Conflict):
		// The import ended between the look and the cancel.
		return OwnedJob{}, errJobFinished
	case errors.Is(err, river.ErrNotFound):
		// Deleted since (River removes old finished jobs).
		return OwnedJob{}, errJobNotFound
	case err != nil:
		return OwnedJob{}, fmt.Errorf("jobs: cancel owned: %w", err)
	}
	return s.FindOwnedJob(ctx, ownerID, jobID)
}

// ownedRow loads a job and checks that ownerID started it.
func (s *Service) ownedRow(ctx context.Context, ownerID, jobID string) (*rivertype.JobRow, error) {
	id, err := strconv.ParseInt(jobID, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != jobID {
		return nil, errJobNotFound
	}
	row, err := s.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return nil, errJobNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: get owned: %w", err)
	}
	var meta map[string]any
	if err := json.Unmarshal(row.Metadata, &meta); err != nil || meta[metadataOwnerKey] != ownerID {
		return nil, errJobNotFound
	}
	return row, nil
}

// ownedJobs turns rows of ownerID's jobs into OwnedJobs, with the uploads
// of the imports among them read in one query.
func (s *Service) ownedJobs(ctx context.Context, ownerID string, rows []*rivertype.JobRow) ([]OwnedJob, error) {
	var importJobs, syncJobs []int64
	for _, r := range rows {
		switch r.Kind {
		case imports.ImportCSVArgs{}.Kind():
			importJobs = append(importJobs, r.ID)
		case syncs.PullArgs{}.Kind(), syncs.PublishArgs{}.Kind():
			syncJobs = append(syncJobs, r.ID)
		}
	}
	uploads, err := s.imports.FindUploadsByJobs(ctx, ownerID, importJobs)
	if err != nil {
		return nil, fmt.Errorf("jobs: find import uploads: %w", err)
	}
	var byJob map[int64]syncs.Sync
	if s.syncs != nil {
		if byJob, err = s.syncs.FindSyncsByJobs(ctx, ownerID, syncJobs); err != nil {
			return nil, fmt.Errorf("jobs: find syncs: %w", err)
		}
	}
	out := make([]OwnedJob, 0, len(rows))
	for _, r := range rows {
		j := OwnedJob{Job: jobFromRow(r)}
		if u, ok := uploads[r.ID]; ok {
			j.Import = &u
		}
		if sy, ok := byJob[r.ID]; ok {
			j.Sync = &sy
		}
		j.Errors = safeAttemptErrors(r.Errors)
		out = append(out, j)
	}
	return out, nil
}

// safeAttemptErrors describes failed attempts without their error text,
// which may hold internal detail (SQL, addresses, stack traces); what an
// owner needs to know of an import's failure is on its upload.
func safeAttemptErrors(errs []rivertype.AttemptError) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		at := e.At.UTC().Format(time.RFC3339)
		if e.Error == rivertype.ErrJobCancelledRemotely.Error() {
			out = append(out, fmt.Sprintf("Attempt %d was cancelled at %s.", e.Attempt, at))
			continue
		}
		out = append(out, fmt.Sprintf("Attempt %d failed at %s.", e.Attempt, at))
	}
	return out
}

func ownerMetadata(ownerID string) (string, error) {
	b, err := json.Marshal(map[string]string{metadataOwnerKey: ownerID})
	if err != nil {
		return "", fmt.Errorf("jobs: encode owner: %w", err)
	}
	return string(b), nil
}

// A jobs cursor is the id of the last job of a page, encoded so that
// clients treat it as opaque.
func encodeJobsCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("j" + strconv.FormatInt(id, 10)))
}

func decodeJobsCursor(c string) (int64, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) < 2 || raw[0] != 'j' {
		return 0, false
	}
	id, err := strconv.ParseInt(string(raw[1:]), 10, 64)
	return id, err == nil && id > 0
}

// Retryable reports whether RetryOwnedJob can start the job's work again:
// a pull or publish whose sync failed.
func (j OwnedJob) Retryable() bool {
	return j.Sync != nil && j.Sync.Status == syncs.StatusFailed
}

var errNotRetryable = apperr.New(apperr.Conflict, "Only a failed pull or publish can be retried; upload a file again to retry an import.")

// RetryOwnedJob starts a failed pull or publish of ownerID's again, as a
// new job on the same tables, and returns that job. The failed job stays
// as it was: retrying a River job whose sync has ended would do nothing,
// since a sync runs once, and what the failed run finished is kept either
// way (a pull merges, a publish resumes from the records still dirty).
// Errors: NotFound (as FindOwnedJob), Conflict (not a failed sync), and
// those of syncs.Service.StartPull and StartPublish.
func (s *Service) RetryOwnedJob(ctx context.Context, ownerID, jobID string) (OwnedJob, error) {
	j, err := s.FindOwnedJob(ctx, ownerID, jobID)
	if err != nil {
		return OwnedJob{}, err
	}
	if !j.Retryable() || s.syncs == nil {
		return OwnedJob{}, errNotRetryable
	}
	tableIDs := make([]string, 0, len(j.Sync.Tables))
	for _, t := range j.Sync.Tables {
		tableIDs = append(tableIDs, t.TableID)
	}
	var sy syncs.Sync
	if j.Sync.Kind == syncs.KindPublish {
		sy, err = s.syncs.StartPublish(ctx, ownerID, j.Sync.WorkbookID, tableIDs)
	} else {
		sy, err = s.syncs.StartPull(ctx, ownerID, j.Sync.WorkbookID, tableIDs)
	}
	if err != nil {
		return OwnedJob{}, err
	}
	return s.FindOwnedJob(ctx, ownerID, strconv.FormatInt(sy.JobID, 10))
}
