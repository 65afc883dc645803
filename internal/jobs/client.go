package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/agent"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/idempotency"
	"github.com/scratchpad/scratchpad/internal/imports"
	"github.com/scratchpad/scratchpad/internal/joblease"
	"github.com/scratchpad/scratchpad/internal/recordindex"
	"github.com/scratchpad/scratchpad/internal/syncs"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// Client is the River client type the app uses.
type Client = river.Client[pgx.Tx]

// Options configures NewClient.
type Options struct {
	// Queues maps queue names to worker counts.
	Queues map[string]int
	Logger *slog.Logger
	// Workers lets other packages add their job kinds before the client
	// starts; NewClient adds this package's own.
	Workers *river.Workers
	// LongKinds are the kinds among Workers that are long jobs: they run
	// under a lease (lease.go) and their workers' Timeout is -1. This
	// package's own long kinds need not be listed.
	LongKinds []string
	// Accounts and Idempotency are used by the purge job.
	Accounts    *accounts.Service
	Idempotency *idempotency.Store
	// Imports runs CSV import jobs; the purge job removes its abandoned
	// uploads.
	Imports *imports.Service
	// Workbooks builds and drops the record store's on-demand indexes.
	Workbooks *workbooks.Service
	// Syncs runs pulls and publishes.
	Syncs *syncs.Service
	// Agent runs the agent's turns.
	Agent *agent.Service
	// NoPeriodic leaves periodic jobs out (tests that count jobs).
	NoPeriodic bool
	// Lease is the timing of long jobs' leases (internal/joblease); zero
	// means joblease.DefaultLease.
	Lease joblease.Timing
}

// timing returns the lease timing with its default filled in.
func (o Options) timing() joblease.Timing {
	if o.Lease.Lease <= 0 {
		return joblease.Timing{Lease: joblease.DefaultLease}
	}
	return o.Lease
}

// leasedKinds lists the long job kinds: the ones that run under a lease and
// that Rescuer hands back when their process dies.
func (o Options) leasedKinds() []string {
	kinds := slices.Clone(o.LongKinds)
	if o.Imports != nil {
		kinds = append(kinds, imports.ImportCSVArgs{}.Kind())
	}
	if o.Workbooks != nil {
		kinds = append(kinds, recordindex.BuildArgs{}.Kind(), recordindex.DropArgs{}.Kind())
	}
	if o.Syncs != nil {
		kinds = append(kinds, syncs.PullArgs{}.Kind(), syncs.PublishArgs{}.Kind())
	}
	if o.Agent != nil {
		kinds = append(kinds, agent.TurnArgs{}.Kind())
	}
	return kinds
}

// NewRescuer returns the rescuer of the long jobs a client built with the
// same options runs; the app runs it on every instance.
func NewRescuer(pool *pgxpool.Pool, opts Options) *Rescuer {
	r := &Rescuer{pool: pool, kinds: opts.leasedKinds(), timing: opts.timing(), logger: opts.Logger, hooks: map[string]RescueHook{}}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	if opts.Imports != nil {
		r.hooks[imports.ImportCSVArgs{}.Kind()] = func(ctx context.Context, tx pgx.Tx, j joblease.Rescued) error {
			return opts.Imports.EndAbandonedImport(ctx, tx, j.Args, j.State == string(rivertype.JobStateCancelled))
		}
	}
	if opts.Syncs != nil {
		end := func(ctx context.Context, tx pgx.Tx, j joblease.Rescued) error {
			return opts.Syncs.EndAbandonedSync(ctx, tx, j.Args, j.State == string(rivertype.JobStateCancelled))
		}
		r.hooks[syncs.PullArgs{}.Kind()] = end
		r.hooks[syncs.PublishArgs{}.Kind()] = end
	}
	if opts.Agent != nil {
		r.hooks[agent.TurnArgs{}.Kind()] = func(ctx context.Context, tx pgx.Tx, j joblease.Rescued) error {
			return opts.Agent.EndAbandonedTurn(ctx, tx, j.Args, j.State == string(rivertype.JobStateCancelled))
		}
	}
	return r
}

// NewClient builds the River client with every worker and periodic job.
func NewClient(pool *pgxpool.Pool, opts Options) (*Client, error) {
	workers := opts.Workers
	if workers == nil {
		workers = river.NewWorkers()
	}
	river.AddWorker(workers, &PurgeExpiredWorker{Accounts: opts.Accounts, Idempotency: opts.Idempotency, Imports: opts.Imports})
	if opts.Imports != nil {
		river.AddWorker(workers, &ImportCSVWorker{Imports: opts.Imports})
	}
	if opts.Workbooks != nil {
		river.AddWorker(workers, &BuildRecordIndexWorker{Indexes: opts.Workbooks.Indexes()})
		river.AddWorker(workers, &DropRecordIndexesWorker{Indexes: opts.Workbooks.Indexes()})
	}
	if opts.Syncs != nil {
		river.AddWorker(workers, &PullWorker{Syncs: opts.Syncs})
		river.AddWorker(workers, &PublishWorker{Syncs: opts.Syncs})
	}
	if opts.Agent != nil {
		river.AddWorker(workers, &AgentTurnWorker{Agent: opts.Agent})
	}

	queues := map[string]river.QueueConfig{}
	for name, n := range opts.Queues {
		queues[name] = river.QueueConfig{MaxWorkers: n}
	}
	if _, ok := queues[river.QueueDefault]; !ok {
		queues[river.QueueDefault] = river.QueueConfig{MaxWorkers: 4}
	}
	if _, ok := queues[syncs.QueueSync]; !ok && opts.Syncs != nil {
		queues[syncs.QueueSync] = river.QueueConfig{MaxWorkers: 2}
	}
	if _, ok := queues[agent.QueueAgent]; !ok && opts.Agent != nil {
		// Turns mostly wait on the model: many run at once cheaply.
		queues[agent.QueueAgent] = river.QueueConfig{MaxWorkers: 8}
	}
	if _, ok := queues[recordindex.Queue]; !ok && opts.Workbooks != nil {
		// Index builds on records wait for each other anyway.
		queues[recordindex.Queue] = river.QueueConfig{MaxWorkers: 1}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	leased := map[string]bool{}
	for _, k := range opts.leasedKinds() {
		leased[k] = true
	}
	cfg := &river.Config{
		Queues:  queues,
		Workers: workers,
		Logger:  opts.Logger,
		Middleware: []rivertype.Middleware{
			&leaseMiddleware{pool: pool, kinds: leased, timing: opts.timing(), logger: logger},
		},
		// Short jobs (purges) run under River's default one-minute
		// timeout; one whose process died is retried after this. Long
		// jobs are leased and rescued by Rescuer instead.
		RescueStuckJobsAfter: 5 * time.Minute,
		// Finished jobs stay visible in /admin/jobs for a week.
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		CancelledJobRetentionPeriod: 7 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
	}
	if !opts.NoPeriodic {
		cfg.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return PurgeExpiredArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true, ID: "purge_expired"}),
		}
		if opts.Workbooks != nil {
			cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(dropRecordIndexesInterval),
				func() (river.JobArgs, *river.InsertOpts) { return recordindex.DropArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true, ID: "drop_record_indexes"}))
		}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: new river client: %w", err)
	}
	return client, nil
}

// Job is a background job as people see it.
type Job struct {
	ID          int64
	Kind        string
	Queue       string
	State       string
	Attempt     int
	MaxAttempts int
	Errors      []string
	CreatedAt   time.Time
	AttemptedAt *time.Time
	FinalizedAt *time.Time
	// Args are the job's arguments as River stores them (JSON).
	Args []byte
}

// Cancellable reports whether the job can still be cancelled.
func (j Job) Cancellable() bool {
	switch rivertype.JobState(j.State) {
	case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return false
	}
	return true
}

func jobFromRow(r *rivertype.JobRow) Job {
	j := Job{
		ID: r.ID, Kind: r.Kind, Queue: r.Queue, State: string(r.State), Attempt: r.Attempt,
		MaxAttempts: r.MaxAttempts, CreatedAt: r.CreatedAt, AttemptedAt: r.AttemptedAt, FinalizedAt: r.FinalizedAt,
		Args: r.EncodedArgs,
	}
	for _, e := range r.Errors {
		j.Errors = append(j.Errors, e.Error)
	}
	return j
}

// Service lists and cancels jobs: any job for admins, and their own jobs
// for the users who started them (owned.go).
type Service struct {
	client *Client
	pool   *pgxpool.Pool
	// imports cancels import jobs the way the import pages do, so that the
	// upload records the end.
	imports *imports.Service
	// rescuer ends at once a cancelled long job whose process is gone.
	rescuer *Rescuer
	// syncs cancels pulls and publishes so that their syncs record the
	// end, and tells their progress; nil when the app runs none.
	syncs *syncs.Service
}

// NewService returns the jobs service over client; imp is the imports
// service, which cancels the import jobs users started, and rescuer the
// rescuer of client's long jobs.
func NewService(client *Client, pool *pgxpool.Pool, imp *imports.Service, rescuer *Rescuer) *Service {
	return &Service{client: client, pool: pool, imports: imp, rescuer: rescuer}
}

// WithSyncs makes the service show and cancel pulls and publishes through
// sy.
func (s *Service) WithSyncs(sy *syncs.Service) *Service {
	s.syncs = sy
	return s
}

// JobFilter selects jobs for the admin list.
type JobFilter struct {
	// State limits the list to one state; empty means all.
	State string
	Limit int
}

// FindJobs returns the most recent jobs, newest first. Errors: Invalid
// (unknown state).
func (s *Service) FindJobs(ctx context.Context, f JobFilter) ([]Job, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	params := river.NewJobListParams().First(limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if f.State != "" {
		if !validState(f.State) {
			return nil, apperr.InvalidFields("Unknown job state.", apperr.FieldError{Field: "state", Message: "is not a job state"})
		}
		params = params.States(rivertype.JobState(f.State))
	}
	res, err := s.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	out := make([]Job, 0, len(res.Jobs))
	for _, r := range res.Jobs {
		out = append(out, jobFromRow(r))
	}
	return out, nil
}

// CancelJob cancels a job that has not finished; a running job is told to
// stop. An import job is cancelled through imports.Service.CancelImport, so
// that its upload records the end even when no worker will run again.
// Errors: NotFound.
func (s *Service) CancelJob(ctx context.Context, id int64) (Job, error) {
	if s.imports != nil {
		u, err := s.imports.FindUploadByJob(ctx, id)
		switch {
		case apperr.Is(err, apperr.NotFound):
		case err != nil:
			return Job{}, fmt.Errorf("jobs: find the job's upload: %w", err)
		default:
			// A finished import (Conflict) falls through to River, which
			// answers for the job as it is.
			if _, err := s.imports.CancelImport(ctx, u.OwnerID, u.WorkbookID, u.ID); err != nil && !apperr.Is(err, apperr.Conflict) {
				return Job{}, err
			}
		}
	}
	if s.syncs != nil {
		if _, err := s.syncs.CancelByJob(ctx, id); err != nil {
			return Job{}, err
		}
	}
	row, err := s.cancel(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Job{}, apperr.New(apperr.NotFound, "Job not found.")
	}
	if err != nil {
		return Job{}, fmt.Errorf("jobs: cancel: %w", err)
	}
	return jobFromRow(row), nil
}

// cancel asks River to cancel job id and, when it is a long job still
// running whose worker has gone silent, ends it at once: no worker would
// see the cancel. It returns the job as it is then.
func (s *Service) cancel(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	row, err := s.client.JobCancel(ctx, id)
	if err != nil || row.State != rivertype.JobStateRunning || s.rescuer == nil {
		return row, err
	}
	if ended, err := s.rescuer.RescueSilent(ctx, id); err != nil || !ended {
		return row, err
	}
	return s.client.JobGet(ctx, id)
}

// States lists every job state in the order the admin filter shows them.
func States() []string {
	out := []string{}
	for _, s := range rivertype.JobStates() {
		out = append(out, string(s))
	}
	return out
}

func validState(s string) bool {
	for _, st := range rivertype.JobStates() {
		if string(st) == s {
			return true
		}
	}
	return false
}

// CountByState counts jobs per state for the jobs-by-state metric. River's
// tables are outside sqlc's schema (they come from River's own migrations),
// so this one statement is written here.
func (s *Service) CountByState(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT state::text, count(*) FROM river_job GROUP BY state`)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
