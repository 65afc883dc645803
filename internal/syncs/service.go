// Package syncs moves records between a workbook's tables and the data
// sources they came from: adding a table from a data source, pulls (and
// re-pulls that merge with local edits) and publishes (creates, updates and
// deletes, with conflict checks and reverts). Each pull or publish is a sync:
// a row that names its tables and their progress, run by one River job that
// survives its process (a leased job: internal/joblease). The record store
// (internal/workbooks) does every write to records; this package decides
// what to write and talks to the connector.
package syncs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/joblease"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// Kinds of sync.
const (
	KindPull    = "pull"
	KindPublish = "publish"
)

// Statuses of a sync.
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusDone      = "done"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// QueueSync is the River queue pulls and publishes run in, apart from
// imports and short jobs.
const QueueSync = "sync"

// PullArgs is the job that runs a pull.
type PullArgs struct {
	SyncID string `json:"sync_id"`
}

// Kind identifies the job in River.
func (PullArgs) Kind() string { return "pull" }

// InsertOpts puts pulls in their queue; a failed attempt resumes from the
// last page it committed, so retries are cheap.
func (PullArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSync, MaxAttempts: 10}
}

// PublishArgs is the job that runs a publish.
type PublishArgs struct {
	SyncID string `json:"sync_id"`
}

// Kind identifies the job in River.
func (PublishArgs) Kind() string { return "publish" }

// InsertOpts puts publishes in their queue; a failed attempt carries on
// with what is left to publish.
func (PublishArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSync, MaxAttempts: 10}
}

// Sources opens connectors to the owner's data sources; the data sources
// domain implements it.
type Sources interface {
	// Open returns a connector to one of the owner's data sources, and
	// its service's id. The caller closes it. Errors: NotFound.
	Open(ctx context.Context, ownerID, dataSourceID string) (connectors.Connector, string, error)
}

// Service is the sync domain.
type Service struct {
	pool    *pgxpool.Pool
	q       *db.Queries
	store   *workbooks.Service
	sources Sources
	// river is an insert-only client: it enqueues and cancels sync jobs;
	// the app's own client works them.
	river  *river.Client[pgx.Tx]
	logger *slog.Logger
	// sleep waits before a retry (tests shorten it).
	sleep func(ctx context.Context, d time.Duration) error
	// lease is the timing of sync jobs' leases: a cancel ends at once a
	// sync whose worker has been silent for lease.Silent().
	lease joblease.Timing
}

// Options tunes NewService.
type Options struct {
	Logger *slog.Logger
	// Sleep replaces the waits of connectors' retries, for tests.
	Sleep func(ctx context.Context, d time.Duration) error
	// Lease is the timing of job leases; zero means joblease.DefaultLease.
	Lease joblease.Timing
}

// NewService returns the sync domain.
func NewService(pool *pgxpool.Pool, store *workbooks.Service, sources Sources, opts Options) (*Service, error) {
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("syncs: river client: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Lease.Lease <= 0 {
		opts.Lease.Lease = joblease.DefaultLease
	}
	return &Service{pool: pool, q: db.New(pool), store: store, sources: sources, river: rc, logger: opts.Logger,
		sleep: opts.Sleep, lease: opts.Lease}, nil
}

// Sync is a pull or a publish as people see it.
type Sync struct {
	ID         string
	WorkbookID string
	OwnerID    string
	Kind       string
	Status     string
	JobID      int64
	// Error says why a failed sync failed, in words for the user.
	Error      string
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	Tables     []SyncTable
}

// Finished reports whether the sync has ended one way or another.
func (s Sync) Finished() bool {
	return s.Status == StatusDone || s.Status == StatusFailed || s.Status == StatusCancelled
}

// Counts sums the sync's tables' counts.
func (s Sync) Counts() SyncTable {
	var c SyncTable
	for _, t := range s.Tables {
		c.Done += t.Done
		c.Total += max(t.Total, 0)
		c.Created += t.Created
		c.Updated += t.Updated
		c.Deleted += t.Deleted
		c.Conflicts += t.Conflicts
		c.Failed += t.Failed
	}
	return c
}

// SyncTable is one table of a sync and how far it has got.
type SyncTable struct {
	TableID   string
	TableName string
	// Phase is waiting, pulling, sweeping, creating, updating, deleting,
	// done, failed or cancelled.
	Phase string
	// Done of Total records are handled; Total is -1 when not known.
	Done  int64
	Total int64
	// What the sync did to the table: records created, updated, deleted
	// (here on a pull, at the source on a publish), conflicts found and
	// records that failed.
	Created, Updated, Deleted, Conflicts, Failed int
	Error                                        string
}

func syncFromRow(r db.Sync) Sync {
	s := Sync{ID: r.ID, WorkbookID: r.WorkbookID, OwnerID: r.OwnerID, Kind: r.Kind, Status: r.Status,
		CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}
	if r.JobID != nil {
		s.JobID = *r.JobID
	}
	if r.Error != nil {
		s.Error = *r.Error
	}
	return s
}

func syncTableFromRow(r db.ListSyncTablesRow) SyncTable {
	t := SyncTable{TableID: r.TableID, TableName: r.TableName, Phase: r.Phase, Done: r.Done, Total: -1,
		Created: int(r.Created), Updated: int(r.Updated), Deleted: int(r.Deleted), Conflicts: int(r.Conflicts), Failed: int(r.Failed)}
	if r.Total != nil {
		t.Total = *r.Total
	}
	if r.Error != nil {
		t.Error = *r.Error
	}
	return t
}

var errSyncNotFound = apperr.New(apperr.NotFound, "Pull or publish not found.")

// FindSync returns one of the owner's syncs with its tables. Errors:
// NotFound.
func (s *Service) FindSync(ctx context.Context, ownerID, syncID string) (Sync, error) {
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(syncID) {
		return Sync{}, errSyncNotFound
	}
	row, err := s.q.GetOwnedSync(ctx, db.GetOwnedSyncParams{ID: syncID, OwnerID: ownerID})
	if db.IsNoRows(err) {
		return Sync{}, errSyncNotFound
	}
	if err != nil {
		return Sync{}, fmt.Errorf("syncs: find sync: %w", err)
	}
	return s.withTables(ctx, syncFromRow(row))
}

func (s *Service) withTables(ctx context.Context, sy Sync) (Sync, error) {
	rows, err := s.q.ListSyncTables(ctx, sy.ID)
	if err != nil {
		return Sync{}, fmt.Errorf("syncs: list sync tables: %w", err)
	}
	for _, r := range rows {
		sy.Tables = append(sy.Tables, syncTableFromRow(r))
	}
	return sy, nil
}

// FindSyncs returns the owner's latest syncs of a workbook, of one kind
// (all kinds when kind is empty), newest first, at most limit.
func (s *Service) FindSyncs(ctx context.Context, ownerID, workbookID, kind string, limit int) ([]Sync, error) {
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(workbookID) {
		return nil, nil
	}
	rows, err := s.q.ListWorkbookSyncs(ctx, db.ListWorkbookSyncsParams{WorkbookID: workbookID, OwnerID: ownerID, Kind: kind, MaxSyncs: int32(max(1, min(limit, 500)))})
	if err != nil {
		return nil, fmt.Errorf("syncs: list syncs: %w", err)
	}
	return s.syncsWithTables(ctx, rows)
}

// FindSyncsByJobs returns the owner's syncs run by the given jobs, by job id.
func (s *Service) FindSyncsByJobs(ctx context.Context, ownerID string, jobIDs []int64) (map[int64]Sync, error) {
	out := map[int64]Sync{}
	if len(jobIDs) == 0 || !ids.ValidUUID(ownerID) {
		return out, nil
	}
	rows, err := s.q.ListSyncsByJobs(ctx, db.ListSyncsByJobsParams{OwnerID: ownerID, JobIds: jobIDs})
	if err != nil {
		return nil, fmt.Errorf("syncs: list syncs by jobs: %w", err)
	}
	list, err := s.syncsWithTables(ctx, rows)
	if err != nil {
		return nil, err
	}
	for _, sy := range list {
		out[sy.JobID] = sy
	}
	return out, nil
}

func (s *Service) syncsWithTables(ctx context.Context, rows []db.Sync) ([]Sync, error) {
	out := make([]Sync, 0, len(rows))
	idx := map[string]int{}
	var syncIDs []string
	for _, r := range rows {
		idx[r.ID] = len(out)
		out = append(out, syncFromRow(r))
		syncIDs = append(syncIDs, r.ID)
	}
	if len(syncIDs) == 0 {
		return out, nil
	}
	tables, err := s.q.ListSyncTablesOf(ctx, syncIDs)
	if err != nil {
		return nil, fmt.Errorf("syncs: list sync tables: %w", err)
	}
	for _, t := range tables {
		i := idx[t.SyncID]
		out[i].Tables = append(out[i].Tables, syncTableFromRow(db.ListSyncTablesRow(t)))
	}
	return out, nil
}

// AddTableInput names a remote table to add to a workbook.
type AddTableInput struct {
	DataSourceID  string
	RemoteTableID string
}

// AddTable adds a table of one of the owner's data sources to one of their
// workbooks, with the source's columns, and starts pulling its records. It
// returns the table and the pull. Errors: NotFound (the workbook, the data
// source or the remote table), Invalid, or the data source's errors as
// Invalid (credentials refused) or Unavailable.
func (s *Service) AddTable(ctx context.Context, ownerID, workbookID string, in AddTableInput) (workbooks.Table, Sync, error) {
	if _, err := s.store.FindWorkbook(ctx, ownerID, workbookID); err != nil {
		return workbooks.Table{}, Sync{}, err
	}
	conn, service, err := s.sources.Open(ctx, ownerID, in.DataSourceID)
	if err != nil {
		return workbooks.Table{}, Sync{}, err
	}
	defer conn.Close()
	spec, err := conn.TableSpec(ctx, in.RemoteTableID)
	if err != nil {
		return workbooks.Table{}, Sync{}, sourceError(err, "remote_table_id")
	}
	tin := workbooks.SourcedTableInput{Name: spec.Name, Service: service, DataSourceID: in.DataSourceID,
		RemoteTableID: spec.ID, ReadOnly: spec.ReadOnly, Columns: columnsOf(spec)}
	var t workbooks.Table
	var sy Sync
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if t, err = s.store.CreateSourcedTableTx(ctx, tx, ownerID, workbookID, tin); err != nil {
			return err
		}
		total := spec.EstimatedRecords
		sy, err = s.startTx(ctx, tx, ownerID, workbookID, KindPull, []workbooks.Table{t}, map[string]int64{t.ID: total})
		return err
	})
	if err != nil {
		return workbooks.Table{}, Sync{}, err
	}
	return t, sy, nil
}

// columnsOf maps a remote table's columns to the store's.
func columnsOf(spec connectors.TableSpec) []workbooks.ColumnInput {
	out := make([]workbooks.ColumnInput, 0, len(spec.Columns))
	for _, c := range spec.Columns {
		out = append(out, workbooks.ColumnInput{Name: c.Name, Type: values.Type(c.Type), Format: c.Format,
			ReadOnly: c.ReadOnly || spec.ReadOnly != "", Required: c.Required, Options: c.Options,
			RemoteKey: c.Key, RemoteType: c.RemoteType})
	}
	return out
}

// sourceError turns a connector's error into a domain error for the person
// who asked: what they can fix is Invalid (on field, when it is theirs to
// change), a missing table NotFound, a source that cannot be reached
// Unavailable; anything else is ours.
func sourceError(err error, field string) error {
	ce, ok := connectors.AsError(err)
	if !ok {
		return err
	}
	switch ce.Kind {
	case connectors.NotFound:
		return apperr.Wrap(apperr.NotFound, err, "%s", ce.Message)
	case connectors.Unavailable, connectors.RateLimited:
		return apperr.Wrap(apperr.Unavailable, err, "The data source did not answer: %s", ce.Message)
	}
	return &apperr.Error{Kind: apperr.Invalid, Message: ce.Message, Cause: err,
		Fields: []apperr.FieldError{{Field: field, Message: ce.Message}}}
}

// StartPull starts pulling some of the owner's tables of a workbook (all
// its tables from data sources when tableIDs is empty). Errors: NotFound,
// Invalid (a table that is not from a data source), Locked (a table is
// being pulled or published).
func (s *Service) StartPull(ctx context.Context, ownerID, workbookID string, tableIDs []string) (Sync, error) {
	return s.start(ctx, ownerID, workbookID, KindPull, tableIDs)
}

// StartPublish starts publishing the changes of some of the owner's tables
// of a workbook (all its tables from data sources when tableIDs is empty).
// Errors: as StartPull, and Invalid for a read-only source.
func (s *Service) StartPublish(ctx context.Context, ownerID, workbookID string, tableIDs []string) (Sync, error) {
	return s.start(ctx, ownerID, workbookID, KindPublish, tableIDs)
}

func (s *Service) start(ctx context.Context, ownerID, workbookID, kind string, tableIDs []string) (Sync, error) {
	tables, err := s.sourcedTables(ctx, ownerID, workbookID, tableIDs, kind == KindPublish)
	if err != nil {
		return Sync{}, err
	}
	totals := map[string]int64{}
	if kind == KindPublish {
		for _, t := range tables {
			w, err := s.q.CountPublishWork(ctx, db.CountPublishWorkParams{WorkbookID: t.WorkbookID, TableID: t.ID})
			if err != nil {
				return Sync{}, fmt.Errorf("syncs: count changes: %w", err)
			}
			totals[t.ID] = int64(w.Creates + w.Updates + w.Deletes)
		}
	}
	var sy Sync
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		sy, err = s.startTx(ctx, tx, ownerID, workbookID, kind, tables, totals)
		return err
	})
	return sy, err
}

// sourcedTables returns the tables a sync works on. Errors: NotFound,
// Invalid.
func (s *Service) sourcedTables(ctx context.Context, ownerID, workbookID string, tableIDs []string, publish bool) ([]workbooks.Table, error) {
	wb, err := s.store.FindWorkbook(ctx, ownerID, workbookID)
	if err != nil {
		return nil, err
	}
	var out []workbooks.Table
	for _, t := range wb.Tables {
		if len(tableIDs) > 0 && !slices.Contains(tableIDs, t.ID) {
			continue
		}
		if !t.Sourced() {
			if len(tableIDs) == 0 {
				continue
			}
			return nil, apperr.InvalidFields(fmt.Sprintf("%s is not linked to a data source.", t.Name),
				apperr.FieldError{Field: "table_ids", Message: t.Name + " is not from a data source"})
		}
		if publish && t.RemoteReadOnly != "" {
			if len(tableIDs) == 0 {
				continue
			}
			return nil, apperr.InvalidFields(fmt.Sprintf("%s cannot be published: %s", t.Name, t.RemoteReadOnly),
				apperr.FieldError{Field: "table_ids", Message: t.Name + " is read-only at its source"})
		}
		out = append(out, t)
	}
	for _, id := range tableIDs {
		if !slices.ContainsFunc(out, func(t workbooks.Table) bool { return t.ID == id }) {
			return nil, apperr.New(apperr.NotFound, "Table not found.")
		}
	}
	if len(out) == 0 {
		return nil, apperr.InvalidFields("This workbook has no table from a data source to sync.",
			apperr.FieldError{Field: "table_ids", Message: "no table from a data source"})
	}
	return out, nil
}

// startTx creates a sync of tables, claims them and enqueues its job, in
// tx. totals are the tables' expected record counts (when known).
func (s *Service) startTx(ctx context.Context, tx pgx.Tx, ownerID, workbookID, kind string, tables []workbooks.Table, totals map[string]int64) (Sync, error) {
	q := db.New(tx)
	row, err := q.CreateSync(ctx, db.CreateSyncParams{WorkbookID: workbookID, OwnerID: ownerID, Kind: kind})
	if err != nil {
		return Sync{}, fmt.Errorf("syncs: create sync: %w", err)
	}
	for i, t := range tables {
		if err := s.store.ClaimTableTx(ctx, tx, t, row.ID); err != nil {
			return Sync{}, err
		}
		var total *int64
		if n, ok := totals[t.ID]; ok && n >= 0 {
			total = &n
		}
		if err := q.AddSyncTable(ctx, db.AddSyncTableParams{SyncID: row.ID, WorkbookID: workbookID, TableID: t.ID, Position: int32(i), Total: total}); err != nil {
			return Sync{}, fmt.Errorf("syncs: add sync table: %w", err)
		}
	}
	meta, err := json.Marshal(map[string]string{"owner_id": ownerID})
	if err != nil {
		return Sync{}, err
	}
	var args river.JobArgs = PullArgs{SyncID: row.ID}
	if kind == KindPublish {
		args = PublishArgs{SyncID: row.ID}
	}
	res, err := s.river.InsertTx(ctx, tx, args, &river.InsertOpts{Metadata: meta})
	if err != nil {
		return Sync{}, fmt.Errorf("syncs: enqueue %s: %w", kind, err)
	}
	if err := q.SetSyncJob(ctx, db.SetSyncJobParams{ID: row.ID, JobID: &res.Job.ID}); err != nil {
		return Sync{}, fmt.Errorf("syncs: record job: %w", err)
	}
	row.JobID = &res.Job.ID
	sy := syncFromRow(row)
	for _, t := range tables {
		st := SyncTable{TableID: t.ID, TableName: t.Name, Phase: "waiting", Total: -1}
		if n, ok := totals[t.ID]; ok && n >= 0 {
			st.Total = n
		}
		sy.Tables = append(sy.Tables, st)
	}
	if err := notifyProgress(ctx, tx, sy); err != nil {
		return Sync{}, err
	}
	return sy, nil
}

// CancelSync cancels one of the owner's syncs that has not finished. A
// queued one ends at once; a running one stops after its current page or
// batch, keeping what it committed. Errors: NotFound, Conflict (finished).
func (s *Service) CancelSync(ctx context.Context, ownerID, syncID string) (Sync, error) {
	sy, err := s.FindSync(ctx, ownerID, syncID)
	if err != nil {
		return Sync{}, err
	}
	if sy.Finished() {
		return Sync{}, apperr.New(apperr.Conflict, "This %s has already finished.", sy.Kind)
	}
	if err := s.CancelJob(ctx, sy); err != nil {
		return Sync{}, err
	}
	return s.FindSync(ctx, ownerID, syncID)
}

// CancelJob cancels the job of sync sy and, when no worker will record the
// end (the job was queued, or its process is gone: the caller's rescuer
// said so by finalizing it), records it.
func (s *Service) CancelJob(ctx context.Context, sy Sync) error {
	if sy.JobID == 0 {
		return s.end(ctx, sy.ID, StatusCancelled, "")
	}
	job, err := s.river.JobCancel(ctx, sy.JobID)
	if errors.Is(err, river.ErrNotFound) {
		return s.end(ctx, sy.ID, StatusCancelled, "")
	}
	if err != nil {
		return fmt.Errorf("syncs: cancel job: %w", err)
	}
	if job.FinalizedAt != nil {
		return s.end(ctx, sy.ID, StatusCancelled, "")
	}
	// A running job stops after its current page or batch and records the
	// end itself, unless its process is gone: then the cancel ends it now.
	return db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		rescued, err := joblease.Rescue(ctx, tx, joblease.RescueParams{
			Kinds: []string{PullArgs{}.Kind(), PublishArgs{}.Kind()}, StaleAfter: s.lease.Silent(), JobID: sy.JobID,
		})
		if err != nil {
			return err
		}
		for _, j := range rescued {
			if err := s.EndAbandonedSync(ctx, tx, j.Args, j.State == "cancelled"); err != nil {
				return err
			}
		}
		return nil
	})
}

// EndAbandonedSync records the end of a sync whose job the rescuer
// cancelled or discarded (its process died with no attempt left, or a
// cancel was asked for meanwhile), inside the rescue's transaction.
func (s *Service) EndAbandonedSync(ctx context.Context, tx pgx.Tx, args []byte, cancelled bool) error {
	var a PullArgs // PublishArgs has the same shape
	if err := json.Unmarshal(args, &a); err != nil {
		return fmt.Errorf("syncs: decode job args: %w", err)
	}
	status, msg := StatusFailed, "The server running it went away and no retry was left; what it finished is kept."
	if cancelled {
		status, msg = StatusCancelled, ""
	}
	return s.endTx(ctx, tx, a.SyncID, status, msg)
}

// end records the end of a sync and frees its tables.
func (s *Service) end(ctx context.Context, syncID, status, message string) error {
	return db.InTx(ctx, s.pool, func(tx pgx.Tx) error { return s.endTx(ctx, tx, syncID, status, message) })
}

func (s *Service) endTx(ctx context.Context, tx pgx.Tx, syncID, status, message string) error {
	q := db.New(tx)
	var msg *string
	if message != "" {
		msg = &message
	}
	row, err := q.FinishSync(ctx, db.FinishSyncParams{ID: syncID, Status: status, Error: msg})
	if db.IsNoRows(err) {
		return nil // ended already
	}
	if err != nil {
		return fmt.Errorf("syncs: finish sync: %w", err)
	}
	sy := syncFromRow(row)
	tables, err := q.ListSyncTables(ctx, syncID)
	if err != nil {
		return fmt.Errorf("syncs: list sync tables: %w", err)
	}
	for _, r := range tables {
		st := syncTableFromRow(r)
		t := workbooks.Table{WorkbookID: sy.WorkbookID, ID: r.TableID}
		if err := s.store.ReleaseTableTx(ctx, tx, t, syncID); err != nil {
			return err
		}
		if sy.Kind == KindPull {
			if err := s.store.ForgetSeenTx(ctx, tx, t, syncID); err != nil {
				return err
			}
		}
		if st.Phase != "done" && st.Phase != "failed" {
			phase := status
			if status == StatusDone {
				phase = "done"
			}
			if err := q.UpdateSyncTable(ctx, db.UpdateSyncTableParams{SyncID: syncID, TableID: r.TableID, Phase: phase}); err != nil {
				return fmt.Errorf("syncs: end table: %w", err)
			}
			st.Phase = phase
		}
		sy.Tables = append(sy.Tables, st)
	}
	if err := notifyProgress(ctx, tx, sy); err != nil {
		return err
	}
	return notifyEnd(ctx, tx, sy)
}

// CancelByJob cancels the sync that job jobID runs, as CancelSync does, for
// an admin who cancels the job; it reports whether the job runs a sync.
// A finished sync is left as it is.
func (s *Service) CancelByJob(ctx context.Context, jobID int64) (bool, error) {
	row, err := s.q.GetSyncByJob(ctx, &jobID)
	if db.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("syncs: find sync of job: %w", err)
	}
	sy := syncFromRow(row)
	if sy.Finished() {
		return true, nil
	}
	return true, s.CancelJob(ctx, sy)
}
